-- The prediction interface: predict_galaxy, galaxy.prediction, galaxy.score and the details view.
-- Re-runnable: every object is created with CREATE OR REPLACE.

create or replace function galaxy.predict_timeout() returns interval
language sql stable
as $$ select galaxy.setting_interval('galaxy.predict_timeout', interval '10 seconds') $$;

-- The hint that tells how to score an image explicitly.
create or replace function galaxy.score_hint(image_id bigint, m galaxy.model_ref) returns text
language sql stable
as $$
    select format('CALL galaxy.score(array[%s]%s) outside a transaction block (it queues the image, commits and waits)',
                  image_id, case when m.active then '' else format(', model => %L', m.name) end)
$$;

-- Raises the error of the last failed scoring of image_id under model m, if there is one.
create or replace function galaxy.raise_if_failed(image_id bigint, m galaxy.model_ref, since timestamptz default '-infinity')
returns void
language plpgsql stable
set search_path = pg_catalog, galaxy
as $$
declare
    f galaxy.failed_jobs;
begin
    select * into f from galaxy.failed_jobs fj
    where fj.image_id = raise_if_failed.image_id and fj.model_id = m.id and fj.failed_at >= since
    order by fj.failed_at desc, fj.id desc
    limit 1;
    if found then
        raise exception 'scoring image % with model "%" failed (%) after % attempts: %', image_id, m.name,
                        coalesce(f.error_code, 'no code'), f.attempts, f.error
            using errcode = 'GZ005',
                  detail = format('Failed job %s, last tried by %s.', f.job_id, coalesce(f.failed_by, 'unknown')),
                  hint = 'Replace the image bytes if they are corrupt, then score it again with ' || galaxy.score_hint(image_id, m) || '.';
    end if;
end;
$$;

-- The class galaxy.classify gives the stored bytes of image_id, storing nothing: for images the
-- daemons cannot see yet (this transaction wrote them) or that are not queued.
-- (PL/pgSQL, so that it may be created before R__0500_classify.sql creates galaxy.classify.)
create or replace function galaxy.classify_stored_image(image_id bigint, model text) returns text
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    r galaxy.classification;
begin
    select (galaxy.classify(i.jpeg, model)).* into r from galaxy.images i where i.id = image_id;
    return r.class;
end;
$$;

-- The high-level class of image_id under the active model, or under the model called model.
-- Returns at once when scored, waits (bounded by galaxy.predict_timeout) while the image is queued
-- or being scored; an image the daemons cannot see yet, or not queued, is scored with
-- galaxy.classify when it is configured (galaxy.classify_configured). Raises a GZ error otherwise; never
-- returns null.
create or replace function galaxy.predict(image_id bigint, model text default null)
returns text
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
    image_xmin xid;
    job_xmin xid;
    job_run_after timestamptz;
    job_lease_owner text;
    job_last_error text;
    job_attempts integer;
    result text;
    deadline timestamptz;
    next_liveness_check timestamptz;
    pause double precision := 0.001;
    lock_key integer;
begin
    if image_id is null then
        raise exception 'predict_galaxy: the image id is null'
            using errcode = 'GZ001', hint = 'Pass the id of a row of galaxy.images.';
    end if;
    m := galaxy.resolve_model(model);

    select i.xmin into image_xmin from galaxy.images i where i.id = predict.image_id;
    if not found then
        raise exception 'image % does not exist', image_id
            using errcode = 'GZ001', hint = 'Pass the id of a row of galaxy.images.';
    end if;

    select p.class into result from galaxy.predictions p
    where p.image_id = predict.image_id and p.model_id = m.id;
    if found then
        return result;
    end if;

    if galaxy.written_by_this_transaction(image_xmin) then
        if galaxy.classify_configured() then
            return galaxy.classify_stored_image(image_id, model);
        end if;
        raise exception 'image % was inserted by this transaction, which has not committed: no daemon can see it yet', image_id
            using errcode = 'GZ009',
                  hint = 'COMMIT first, then call predict_galaxy again; or score it with ' || galaxy.score_hint(image_id, m) || '.';
    end if;

    select q.xmin, q.run_after, q.lease_owner, q.last_error, q.attempts
    into job_xmin, job_run_after, job_lease_owner, job_last_error, job_attempts
    from galaxy.queue q
    where q.image_id = predict.image_id and (q.model_id = m.id or (q.model_id is null and m.active))
    order by q.lease_owner nulls last, q.run_after, q.id
    limit 1;
    if not found then
        perform galaxy.raise_if_failed(image_id, m);
        if galaxy.classify_configured() then
            return galaxy.classify_stored_image(image_id, model);
        end if;
        raise exception 'image % has no prediction under model "%" and is not queued', image_id, m.name
            using errcode = 'GZ006', hint = 'Score it with ' || galaxy.score_hint(image_id, m) || '.';
    end if;
    if galaxy.written_by_this_transaction(job_xmin) then
        if galaxy.classify_configured() then
            return galaxy.classify_stored_image(image_id, model);
        end if;
        raise exception 'image % was queued by this transaction, which has not committed: no daemon can see the job yet', image_id
            using errcode = 'GZ009',
                  hint = 'COMMIT first, then call predict_galaxy again; or score it with ' || galaxy.score_hint(image_id, m) || '.';
    end if;
    if current_setting('transaction_isolation') in ('repeatable read', 'serializable') then
        if galaxy.classify_configured() then
            return galaxy.classify_stored_image(image_id, model);
        end if;
        raise exception 'image % is queued, but a % transaction cannot see the prediction arrive', image_id,
                current_setting('transaction_isolation')
            using errcode = 'GZ011',
                  hint = 'Call predict_galaxy in a READ COMMITTED transaction (the default), or score it with ' || galaxy.score_hint(image_id, m) || '.';
    end if;
    if galaxy.live_daemon_count() = 0 then
        raise exception 'image % is queued but no scoring daemon is running', image_id
            using errcode = 'GZ007',
                  detail = format('No row of galaxy.daemons has a heartbeat newer than galaxy.daemon_timeout (%s).', galaxy.format_seconds(galaxy.daemon_timeout())),
                  hint = 'Start one with galaxy serve; the job stays queued and is scored when a daemon runs.';
    end if;

    deadline := clock_timestamp() + galaxy.predict_timeout();
    if job_lease_owner is null and job_run_after > deadline then
        -- A failed attempt is waiting out its backoff: say so now rather than after the timeout.
        raise exception 'image % waits for a retry after attempt % failed: %', image_id, job_attempts,
                coalesce(job_last_error, 'unknown error')
            using errcode = 'GZ008',
                  detail = format('The retry is due at %s, later than galaxy.predict_timeout allows to wait.',
                                  to_char(job_run_after at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')),
                  hint = 'Call predict_galaxy again after the retry, or fix the image and score it with ' || galaxy.score_hint(image_id, m) || '.';
    end if;
    next_liveness_check := clock_timestamp() + interval '1 second';
    -- Tell claim_jobs that someone waits for this image (see galaxy.waited_image_keys).
    lock_key := galaxy.waiter_lock_key(image_id);
    perform pg_advisory_lock_shared(galaxy.waiter_lock_class(), lock_key);
    begin
        loop
            perform pg_sleep(pause);
            -- Short sleeps at first (a scoring takes milliseconds), growing slowly so a late
            -- result is noticed within about a fifth of the time waited.
            pause := least(pause * 1.2, 0.02);

            select p.class into result from galaxy.predictions p
            where p.image_id = predict.image_id and p.model_id = m.id;
            exit when found;

            if not exists (select 1 from galaxy.queue q
                           where q.image_id = predict.image_id
                             and (q.model_id = m.id or (q.model_id is null and m.active))) then
                -- The job left the queue: the prediction committed just now, or it failed, or it
                -- was cancelled.
                select p.class into result from galaxy.predictions p
                where p.image_id = predict.image_id and p.model_id = m.id;
                exit when found;
                perform galaxy.raise_if_failed(image_id, m);
                raise exception 'the job of image % under model "%" left the queue without a prediction', image_id, m.name
                    using errcode = 'GZ006',
                          detail = 'It was removed (for example by galaxy.cancel_batch or a DELETE).',
                          hint = 'Score it again with ' || galaxy.score_hint(image_id, m) || '.';
            end if;

            if clock_timestamp() >= deadline then
                raise exception 'image % was not scored within galaxy.predict_timeout (%)', image_id, galaxy.format_seconds(galaxy.predict_timeout())
                    using errcode = 'GZ008',
                          detail = 'The job is still queued and will be scored.',
                          hint = 'Call predict_galaxy again later, raise the limit with SET galaxy.predict_timeout = ''30s'', or check the daemons (select * from galaxy.daemons) and the queue.';
            end if;
            if clock_timestamp() >= next_liveness_check then
                if galaxy.live_daemon_count() = 0 then
                    raise exception 'image % is queued but no scoring daemon is running any more', image_id
                        using errcode = 'GZ007',
                              detail = format('No row of galaxy.daemons has a heartbeat newer than galaxy.daemon_timeout (%s).', galaxy.format_seconds(galaxy.daemon_timeout())),
                              hint = 'Start one with galaxy serve; the job stays queued and is scored when a daemon runs.';
                end if;
                next_liveness_check := clock_timestamp() + interval '1 second';
            end if;
        end loop;
    exception
        when query_canceled then
            perform pg_advisory_unlock_shared(galaxy.waiter_lock_class(), lock_key);
            raise;
        when others then
            perform pg_advisory_unlock_shared(galaxy.waiter_lock_class(), lock_key);
            raise;
    end;
    perform pg_advisory_unlock_shared(galaxy.waiter_lock_class(), lock_key);
    return result;
end;
$$;

-- Callable unqualified in any session: select predict_galaxy(42), predict_galaxy(42, model => 'cnn-v2').
create or replace function public.predict_galaxy(image_id bigint, model text default null)
returns text
language sql volatile
as $$ select galaxy.predict(image_id, model) $$;

comment on function public.predict_galaxy(bigint, text) is
    'High-level galaxy class of an image under the active (or named) model; waits while it is being scored; raises GZxxx errors instead of returning null';

-- Every prediction with its model and provenance.
create or replace view galaxy.prediction_details as
select p.image_id,
       i.specobjid,
       m.name as model,
       p.model_id,
       m.active as model_active,
       p.label,
       p.class,
       p.probabilities,
       p.scored_at,
       p.scored_by,
       p.latency_ms,
       p.batch_id,
       encode(p.model_sha256, 'hex') as model_sha256,
       encode(p.image_sha256, 'hex') as image_sha256,
       p.preprocessing,
       p.precision
from galaxy.predictions p
join galaxy.models m on m.id = p.model_id
join galaxy.images i on i.id = p.image_id;

comment on view galaxy.prediction_details is 'Predictions with model name, probabilities and provenance';

-- The prediction of one image (waiting like predict_galaxy), with its details.
create or replace function galaxy.prediction(image_id bigint, model text default null)
returns setof galaxy.prediction_details
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
begin
    m := galaxy.resolve_model(model);
    perform galaxy.predict(image_id, m.name);
    return query select * from galaxy.prediction_details d
                 where d.image_id = prediction.image_id and d.model_id = m.id;
end;
$$;

-- Queues image_ids at interactive priority for the model (or the active model) and returns the
-- model. Images already scored are skipped unless rescore; a job already queued is moved up to
-- interactive priority instead of being duplicated.
create or replace function galaxy.request_scoring(image_ids bigint[], model text, rescore boolean)
returns galaxy.model_ref
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
    unknown bigint[];
begin
    if image_ids is null or cardinality(image_ids) = 0 then
        raise exception 'galaxy.score: no image ids given'
            using errcode = 'GZ016', hint = 'Pass an array of galaxy.images ids, e.g. CALL galaxy.score(array[1, 2]).';
    end if;
    m := galaxy.resolve_model(model);
    unknown := array(select u.id from unnest(image_ids) as u(id)
                     where not exists (select 1 from galaxy.images i where i.id = u.id)
                     order by u.id limit 10);
    if cardinality(unknown) > 0 then
        raise exception 'images do not exist: %', array_to_string(unknown, ', ')
            using errcode = 'GZ001', hint = 'Pass ids of rows of galaxy.images.';
    end if;

    with wanted as (
        select distinct u.id from unnest(image_ids) as u(id)
        where rescore or not exists (select 1 from galaxy.predictions p where p.image_id = u.id and p.model_id = m.id)
    ), bumped as (
        update galaxy.queue q
        set priority = greatest(q.priority, galaxy.interactive_priority()),
            run_after = least(q.run_after, clock_timestamp())
        from wanted w
        where q.image_id = w.id and (q.model_id = m.id or (q.model_id is null and m.active))
        returning q.image_id
    )
    insert into galaxy.queue (image_id, model_id, priority)
    select w.id, m.id, galaxy.interactive_priority() from wanted w
    where w.id not in (select b.image_id from bumped b)
    order by w.id;
    return m;
end;
$$;

-- Where the images of a galaxy.score call stand: queued, scored since, failed since.
create or replace function galaxy.scoring_status(image_ids bigint[], model_id bigint, since timestamptz,
                                                 out queued integer, out scored integer, out failed integer)
language sql stable security definer
set search_path = pg_catalog, galaxy
as $$
    with ids as (select distinct u.id from unnest(image_ids) as u(id)),
    m as (select x.id, x.active from galaxy.models x where x.id = model_id)
    select
        (select count(*) from ids where exists (
            select 1 from galaxy.queue q, m
            where q.image_id = ids.id and (q.model_id = m.id or (q.model_id is null and m.active))))::integer,
        (select count(*) from ids where exists (
            select 1 from galaxy.predictions p where p.image_id = ids.id and p.model_id = scoring_status.model_id
            and p.scored_at >= since))::integer,
        (select count(*) from ids where exists (
            select 1 from galaxy.failed_jobs f where f.image_id = ids.id and f.model_id = scoring_status.model_id
            and f.failed_at >= since))::integer
$$;

-- Scores images now: queues them at interactive priority, COMMITs (so the daemons see the jobs),
-- then waits until every job has left the queue. Run it outside a transaction block.
create or replace procedure galaxy.score(ids bigint[], model text default null, timeout interval default null,
                                         rescore boolean default false)
language plpgsql
-- No SET clause: a procedure with one cannot COMMIT. Every name below is schema-qualified.
as $$
declare
    m galaxy.model_ref;
    started timestamptz := clock_timestamp();
    deadline timestamptz;
    next_liveness_check timestamptz;
    pause double precision := 0.001;
    s record;
    total integer;
begin
    -- Inside a transaction block the COMMIT below fails with "invalid transaction termination"
    -- (SQLSTATE 2D000) and the request rolls back with the caller's transaction. There is no
    -- reliable way to tell the two contexts apart beforehand (timestamps differ with the extended
    -- query protocol even in autocommit).
    m := galaxy.request_scoring(ids, model, rescore);
    commit;

    total := (select count(distinct u) from unnest(ids) u);
    deadline := clock_timestamp() + coalesce(timeout, galaxy.setting_interval('galaxy.score_timeout', interval '1 minute'));
    next_liveness_check := clock_timestamp();
    -- Waiting: claim_jobs takes these images first (see galaxy.waited_image_keys).
    perform galaxy.set_waiting(ids, true);
    begin
        loop
            s := galaxy.scoring_status(ids, m.id, started);
            exit when s.queued = 0;
            if clock_timestamp() >= next_liveness_check then
                if galaxy.live_daemon_count() = 0 then
                    raise exception '% of % images are queued but no scoring daemon is running', s.queued, total
                        using errcode = 'GZ007',
                              detail = 'The request is committed: the jobs stay queued and are scored when a daemon runs.',
                              hint = 'Start one with galaxy serve.';
                end if;
                next_liveness_check := clock_timestamp() + interval '1 second';
            end if;
            if clock_timestamp() >= deadline then
                raise exception '% of % images were not scored within the timeout (%)', s.queued, total,
                        galaxy.format_seconds(coalesce(timeout, galaxy.setting_interval('galaxy.score_timeout', interval '1 minute')))
                    using errcode = 'GZ008',
                          detail = 'The request is committed: the jobs stay queued and will be scored.',
                          hint = 'Pass a longer timeout => ''5 min'' or SET galaxy.score_timeout; follow progress in galaxy.queue.';
            end if;
            perform pg_sleep(pause);
            pause := least(pause * 1.5, 0.1);
        end loop;
    exception
        when query_canceled then
            perform galaxy.set_waiting(ids, false);
            raise;
        when others then
            perform galaxy.set_waiting(ids, false);
            raise;
    end;
    perform galaxy.set_waiting(ids, false);

    if s.failed > 0 then
        raise exception '% of % images failed to score with model "%"', s.failed, total, m.name
            using errcode = 'GZ005',
                  detail = 'The other images are scored.',
                  hint = format('See select image_id, error from galaxy.failed_jobs where model_id = %s and image_id = any(...).', m.id);
    end if;
    raise notice '% images scored with model "%"', total, m.name;
end;
$$;

-- Grants for what this file created or replaced (see R__0000_roles.sql).
select galaxy.apply_grants();
