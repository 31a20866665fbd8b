-- Failed jobs say what kind of failure ended them. The daemon decides, with its one retry
-- policy, whether a failure is permanent (bad image bytes: the job fails at once) or transient
-- (retried after a backoff), and galaxy.fail_jobs only applies that decision.
alter table galaxy.queue add column last_error_code text;
alter table galaxy.failed_jobs add column error_code text;
comment on column galaxy.queue.last_error_code is 'Code of the last failed attempt (docs/daemon.md lists them)';
comment on column galaxy.failed_jobs.error_code is 'Why the job failed: corrupt_image, truncated_image, ... (docs/daemon.md); null for jobs failed before version 3';

-- Replaced by fail_jobs(daemon, job_ids, errors, error_codes, retry_after_seconds) in R__0100_queue.sql.
drop function if exists galaxy.fail_jobs(text, bigint[], text[], double precision);

-- The preprocessing has one recorded form (PreprocessOptions in GalaxyImage): models keep it as
-- metadata.preprocessing, predictions as preprocessing, both
-- {"crop_fraction": ..., "decode_scale": "1/4", "size": 50[, "mean": [...], "std": [...]]}.
-- Models validated by earlier versions kept its members at the top level of their metadata.
update galaxy.models
set metadata = metadata || jsonb_build_object('preprocessing', jsonb_strip_nulls(jsonb_build_object(
        'crop_fraction', metadata -> 'crop_fraction',
        'size', metadata -> 'input_size',
        'decode_scale', coalesce(metadata -> 'decode_scale', '"1"'),
        'mean', metadata -> 'mean',
        'std', metadata -> 'std')))
where metadata ? 'input_size' and metadata ? 'crop_fraction' and not metadata ? 'preprocessing';
-- Predictions recorded before decode scales existed were decoded at full scale.
update galaxy.predictions
set preprocessing = preprocessing || '{"decode_scale": "1"}'
where preprocessing <> '{}' and not preprocessing ? 'decode_scale';
