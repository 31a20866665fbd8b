-- What galaxy.classify returns: one scoring of JPEG bytes by a daemon's resident model, stored
-- nowhere (R__0500_classify.sql creates the function).
create type galaxy.classification as (
    label         text,
    class         text,
    probabilities jsonb,
    model         text,
    latency_ms    double precision,
    model_id      bigint,
    model_sha256  text,
    image_sha256  text,
    preprocessing jsonb,
    timings       jsonb
);
comment on type galaxy.classification is 'A galaxy.classify result: label, class, probabilities, model and provenance';
