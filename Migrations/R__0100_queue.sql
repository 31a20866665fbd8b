-- The scoring queue: shared functions, the triggers that queue images and wake the daemons, and the
-- daemon protocol (register, heartbeat, claim, complete, fail, release).
-- Re-runnable: every object is created with CREATE OR REPLACE.

-- Settings ------------------------------------------------------------------------------------------

-- Reads a custom setting holding an interval ('10s', '500ms') or a number of seconds.
create or replace function galaxy.setting_interval(setting_name text, fallback interval)
returns interval
language plpgsql stable
set search_path = pg_catalog, galaxy
as $$
declare
    value text := nullif(btrim(current_setting(setting_name, true)), '');
begin
    if value is null then
        return fallback;
    end if;
    if value ~ '^[0-9]+(\.[0-9]*)?$' then
        return make_interval(secs => value::double precision);
    end if;
    return value::interval;
exception
    when invalid_datetime_format or datetime_field_overflow or invalid_text_representation then
        raise exception 'setting % has an invalid value "%"', setting_name, value
            using errcode = 'GZ010',
                  hint = 'Use an interval such as ''10s'' or ''500ms'', or a number of seconds.';
end;
$$;

-- An interval for messages: '10 s', '0.05 s' (independent of IntervalStyle).
create or replace function galaxy.format_seconds(value interval) returns text
language sql immutable parallel safe
as $$ select rtrim(rtrim(round(extract(epoch from value), 3)::text, '0'), '.') || ' s' $$;

-- Priorities: interactive work (inserts, predict_galaxy, galaxy.score) runs before batches.
create or replace function galaxy.interactive_priority() returns integer
language sql immutable parallel safe as 'select 100';

create or replace function galaxy.batch_priority() returns integer
language sql immutable parallel safe as 'select 10';

-- Waiters ---------------------------------------------------------------------------------------------
-- A session waiting in predict_galaxy holds a shared session-level advisory lock (waiter_lock_class(),
-- low 32 bits of the image id). Session locks are visible in pg_locks at once, outside any
-- transaction, so claim_jobs sees the waiter even though the waiting transaction is still open.

create or replace function galaxy.waiter_lock_class() returns integer
language sql immutable parallel safe as 'select 1197102932';  -- 0x475A5754

create or replace function galaxy.waiter_lock_key(image_id bigint) returns integer
language sql immutable parallel safe
as $$ select ((image_id & 4294967295) - case when (image_id & 4294967295) >= 2147483648
                                               then 4294967296 else 0 end)::integer $$;

-- Low 32 bits of the image ids that some session is waiting for now.
create or replace function galaxy.waited_image_keys() returns bigint[]
language sql stable
set search_path = pg_catalog, galaxy
as $$
    select coalesce(array_agg(distinct l.objid::text::bigint), '{}')
    from pg_catalog.pg_locks l
    where l.locktype = 'advisory'
      and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
      and l.classid = galaxy.waiter_lock_class()::oid
      and l.objsubid = 2
      and l.granted
$$;

-- Marks (or unmarks) the session as waiting for image_ids, at most the first 1000 distinct ones.
create or replace function galaxy.set_waiting(image_ids bigint[], waiting boolean)
returns void
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    key integer;
begin
    for key in select distinct galaxy.waiter_lock_key(u.id) from unnest(image_ids) as u(id) limit 1000 loop
        if waiting then
            perform pg_advisory_lock_shared(galaxy.waiter_lock_class(), key);
        else
            perform pg_advisory_unlock_shared(galaxy.waiter_lock_class(), key);
        end if;
    end loop;
end;
$$;

-- Transactions ----------------------------------------------------------------------------------------

-- True when a visible row version (given its xmin) was written by the current, uncommitted
-- transaction or one of its subtransactions: the daemon cannot see it yet.
create or replace function galaxy.written_by_this_transaction(row_xmin xid)
returns boolean
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    top bigint := pg_current_xact_id_if_assigned()::text::bigint;
    full_xid bigint;
begin
    if top is null or row_xmin is null then
        return false;  -- this transaction has written nothing
    end if;
    -- Put the 32-bit xmin into the epoch of our own transaction id.
    full_xid := (top & ~4294967295::bigint) | row_xmin::text::bigint;
    if full_xid > top + 2147483648 then
        full_xid := full_xid - 4294967296;
    elsif full_xid < top - 2147483648 then
        full_xid := full_xid + 4294967296;
    end if;
    if full_xid < top then
        return false;  -- older than our transaction: committed before we started writing
    end if;
    -- A visible row whose writer is still in progress can only be our own.
    return pg_xact_status(full_xid::text::xid8) = 'in progress';
end;
$$;

-- Liveness --------------------------------------------------------------------------------------------

create or replace function galaxy.daemon_timeout() returns interval
language sql stable
as $$ select galaxy.setting_interval('galaxy.daemon_timeout', interval '15 seconds') $$;

create or replace function galaxy.live_daemon_count() returns integer
language sql stable security definer
set search_path = pg_catalog, galaxy
as $$
    select count(*)::integer from galaxy.daemons d
    where d.stopped_at is null
      and d.heartbeat_at > clock_timestamp() - galaxy.daemon_timeout()
$$;

-- Models ----------------------------------------------------------------------------------------------

-- The model called model_name, or the active model when model_name is null; it must be ready.
create or replace function galaxy.resolve_model(model_name text)
returns galaxy.model_ref
language plpgsql stable security definer
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
begin
    if model_name is null then
        select x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m from galaxy.models x where x.active;
        if not found then
            raise exception 'no model is active'
                using errcode = 'GZ003',
                      hint = 'Activate one with select galaxy.activate_model(''NAME''); see select * from galaxy.model_list.';
        end if;
        return m;
    end if;
    select x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m from galaxy.models x where x.name = model_name;
    if not found then
        raise exception 'model "%" does not exist', model_name
            using errcode = 'GZ002',
                  hint = 'See select name, status from galaxy.model_list; add one with galaxy.add_model(name, onnx).';
    end if;
    if m.status <> 'ready' then
        raise exception 'model "%" is % and cannot score', model_name, m.status
            using errcode = 'GZ004',
                  detail = coalesce('Validation error: ' || m.error, 'It has not been validated yet.'),
                  hint = case when m.status = 'pending'
                              then 'A running daemon (galaxy serve) or galaxy model add validates pending models; wait for it.'
                              else 'Fix the ONNX file and add it again under a new name.' end;
    end if;
    return m;
end;
$$;

-- Batch counters -------------------------------------------------------------------------------------

-- Counts finished jobs (one array element per job, batch ids may repeat or be null) and finishes the
-- batches that reached their total. A daemon counts twice per transaction (complete_jobs, then
-- fail_jobs), each time for different batches; so that two daemons cannot each hold one batch row
-- and wait for the other's, counting takes one transaction-level advisory lock first (held to
-- commit), then locks batch rows in id order.
create or replace function galaxy.count_batch_results(done_batches bigint[], failed_batches bigint[])
returns void
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    r record;
    finishing boolean;
begin
    if cardinality(array_remove(coalesce(done_batches, '{}'), null)) = 0
       and cardinality(array_remove(coalesce(failed_batches, '{}'), null)) = 0 then
        return;  -- no batch jobs: nothing to lock
    end if;
    perform pg_advisory_xact_lock(galaxy.waiter_lock_class(), 1);
    for r in
        select s.batch_id, sum(s.d)::bigint as d, sum(s.f)::bigint as f
        from (select unnest(done_batches) as batch_id, 1 as d, 0 as f
              union all
              select unnest(failed_batches), 0, 1) s
        where s.batch_id is not null
        group by s.batch_id
        order by s.batch_id
    loop
        select b.status = 'running' and b.done + r.d + b.failed + r.f >= b.total into finishing
        from galaxy.batches b where b.id = r.batch_id
        for no key update;  -- not FOR UPDATE: that would wait for the KEY SHARE locks of inserts referencing the batch
        update galaxy.batches b
        set done = b.done + r.d,
            failed = b.failed + r.f,
            status = case when finishing then 'done' else b.status end,
            finished_at = case when finishing then clock_timestamp() else b.finished_at end
        where b.id = r.batch_id;
        if finishing then
            perform pg_notify('galaxy_batches', r.batch_id::text);
        end if;
    end loop;
end;
$$;

-- Triggers --------------------------------------------------------------------------------------------

-- Every inserted image gets an interactive job for the active model (resolved at claim time), or,
-- with galaxy.score_on_insert = sync, its prediction now (R__0500_classify.sql).
create or replace function galaxy.queue_new_images() returns trigger
language plpgsql security definer
set search_path = pg_catalog, galaxy
as $$
begin
    if galaxy.score_on_insert() = 'sync' then
        perform galaxy.score_inserted_images(array(select n.id from new_images n));
        return null;
    end if;
    insert into galaxy.queue (image_id)
    select n.id from new_images n order by n.id;
    return null;
end;
$$;

drop trigger if exists images_queue on galaxy.images;
create trigger images_queue
    after insert on galaxy.images
    referencing new table as new_images
    for each statement execute function galaxy.queue_new_images();

-- New JPEG bytes for an image: score it again (its predictions were made from the old bytes).
create or replace function galaxy.queue_changed_image() returns trigger
language plpgsql security definer
set search_path = pg_catalog, galaxy
as $$
begin
    insert into galaxy.queue (image_id) values (new.id);
    return null;
end;
$$;

drop trigger if exists images_requeue on galaxy.images;
create trigger images_requeue
    after update of jpeg on galaxy.images
    for each row
    when (old.jpeg_sha256 is distinct from new.jpeg_sha256)
    execute function galaxy.queue_changed_image();

-- One notification per transaction (pg_notify folds identical ones), delivered at commit; none
-- for a statement that queued nothing.
create or replace function galaxy.notify_jobs() returns trigger
language plpgsql
set search_path = pg_catalog, galaxy
as $$
begin
    if exists (select 1 from new_jobs) then
        perform pg_notify('galaxy_jobs', '');
    end if;
    return null;
end;
$$;

drop trigger if exists queue_notify on galaxy.queue;
create trigger queue_notify
    after insert on galaxy.queue
    referencing new table as new_jobs
    for each statement execute function galaxy.notify_jobs();

-- Daemon protocol ------------------------------------------------------------------------------------

create or replace function galaxy.daemon_register(daemon text, host text, pid integer, version text)
returns void
language sql volatile security definer
set search_path = pg_catalog, galaxy
as $$
    insert into galaxy.daemons as d (name, host, pid, version, started_at, heartbeat_at, stopped_at)
    values (daemon, host, pid, version, clock_timestamp(), clock_timestamp(), null)
    on conflict (name) do update
    set host = excluded.host, pid = excluded.pid, version = excluded.version,
        started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = null
$$;

create or replace function galaxy.daemon_heartbeat(daemon text)
returns void
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
begin
    update galaxy.daemons d set heartbeat_at = clock_timestamp(), stopped_at = null where d.name = daemon;
    if not found then
        insert into galaxy.daemons (name) values (daemon) on conflict (name) do nothing;
    end if;
end;
$$;

create or replace function galaxy.daemon_stopped(daemon text)
returns void
language sql volatile security definer
set search_path = pg_catalog, galaxy
as $$
    update galaxy.daemons d set stopped_at = clock_timestamp() where d.name = daemon
$$;

-- Jobs whose lease expired on their last attempt (the daemon died scoring them, possibly because of
-- them) fail for good instead of taking down the next daemon too.
-- Every claim calls this, so it must stay cheap with millions of jobs queued: the expired leases are
-- read through queue_lease_expiry, with the time as a value (clock_timestamp() in the condition
-- cannot bound an index scan), and sequential scans are off because the queue's statistics swing
-- between a large backlog and a handful of leases (a stale "most rows are leased" made the planner
-- scan the whole queue on every claim).
create or replace function galaxy.retire_abandoned_jobs()
returns integer
language plpgsql volatile
set search_path = pg_catalog, galaxy
set enable_seqscan = off
as $$
declare
    retire_time timestamptz := clock_timestamp();
    batch_ids bigint[];
begin
    with abandoned as (
        select q.id from galaxy.queue q
        where q.lease_owner is not null
          and q.lease_expires_at < retire_time
          and q.attempts >= q.max_attempts
        order by q.id
        for update skip locked
    ), gone as (
        delete from galaxy.queue q using abandoned a where q.id = a.id returning q.*
    ), moved as (
        insert into galaxy.failed_jobs (job_id, image_id, model_id, batch_id, priority, attempts,
                                        max_attempts, error, error_code, failed_by, enqueued_at)
        select g.id, g.image_id, g.model_id, g.batch_id, g.priority, g.attempts, g.max_attempts,
               format('lease of daemon %s expired on attempt %s of %s (the daemon stopped while scoring)%s',
                      g.lease_owner, g.attempts, g.max_attempts, coalesce('; last error: ' || g.last_error, '')),
               'lease_expired', g.lease_owner, g.enqueued_at
        from gone g
        returning batch_id
    )
    select array_agg(m.batch_id) into batch_ids from moved m;
    if batch_ids is not null then
        perform galaxy.count_batch_results('{}', batch_ids);
    end if;
    return coalesce(cardinality(batch_ids), 0);
end;
$$;

create or replace function galaxy.claim_jobs(daemon text, max_jobs integer, lease_seconds double precision)
returns table (job_id bigint, image_id bigint, model_id bigint, attempt integer, jpeg bytea)
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
#variable_conflict use_column
declare
    claim_time timestamptz := clock_timestamp();
    active_id bigint;
    ready_ids bigint[];
    waited bigint[];
    picked bigint[] := '{}';
begin
    if max_jobs is null or max_jobs < 1 then
        return;
    end if;
    if lease_seconds is null or lease_seconds <= 0 then
        raise exception 'claim_jobs: lease_seconds must be positive, got %', lease_seconds
            using errcode = 'GZ016';
    end if;

    -- A lease need not survive a crash (the job is simply claimable again), so this transaction
    -- does not wait for its WAL flush: a claim costs no fsync.
    perform set_config('synchronous_commit', 'off', true);

    -- Claiming proves the daemon alive; refresh its heartbeat at most once a second.
    update galaxy.daemons d set heartbeat_at = claim_time, stopped_at = null
    where d.name = daemon and d.heartbeat_at < claim_time - interval '1 second';

    perform galaxy.retire_abandoned_jobs();

    select m.id into active_id from galaxy.models m where m.active;
    select coalesce(array_agg(m.id), '{}') into ready_ids from galaxy.models m where m.status = 'ready';
    if cardinality(ready_ids) = 0 then
        return;
    end if;

    -- Images some session waits for come first, whatever their priority.
    waited := galaxy.waited_image_keys();
    if cardinality(waited) > 0 then
        picked := array(
            select q.id from galaxy.queue q
            where q.image_id = any(waited)
              and q.run_after <= claim_time
              and (q.lease_owner is null or q.lease_expires_at < claim_time)
              and q.attempts < q.max_attempts
              and (q.model_id = any(ready_ids) or (q.model_id is null and active_id is not null))
            order by q.priority desc, q.enqueued_at, q.id
            limit max_jobs
            for update of q skip locked);
    end if;

    -- Then by priority, then by age.
    if cardinality(picked) < max_jobs then
        picked := picked || array(
            select q.id from galaxy.queue q
            where q.run_after <= claim_time
              and (q.lease_owner is null or q.lease_expires_at < claim_time)
              and q.attempts < q.max_attempts
              and (q.model_id = any(ready_ids) or (q.model_id is null and active_id is not null))
              and q.id <> all(picked)
            order by q.priority desc, q.enqueued_at, q.id
            limit max_jobs - cardinality(picked)
            for update of q skip locked);
    end if;
    if cardinality(picked) = 0 then
        return;
    end if;

    return query
    with claimed as (
        update galaxy.queue q
        set lease_owner = daemon,
            lease_expires_at = claim_time + make_interval(secs => lease_seconds),
            attempts = q.attempts + 1,
            model_id = coalesce(q.model_id, active_id)
        where q.id = any(picked)
        returning q.id, q.image_id, q.model_id, q.attempts
    )
    select c.id, c.image_id, c.model_id, c.attempts, i.jpeg
    from claimed c
    join galaxy.images i on i.id = c.image_id
    order by array_position(picked, c.id);
end;
$$;

create or replace function galaxy.complete_jobs(daemon text, job_ids bigint[], labels text[], classes text[],
                                                probabilities jsonb[], latency_ms real[], preprocessing jsonb)
returns bigint[]
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    mine bigint[];
    batch_ids bigint[];
    n integer := coalesce(cardinality(job_ids), 0);
begin
    if n = 0 then
        return '{}';
    end if;
    if coalesce(cardinality(labels), 0) <> n or coalesce(cardinality(classes), 0) <> n
       or coalesce(cardinality(probabilities), 0) <> n or coalesce(cardinality(latency_ms), 0) <> n then
        raise exception 'complete_jobs: % job ids but % labels, % classes, % probabilities, % latencies',
            n, cardinality(labels), cardinality(classes), cardinality(probabilities), cardinality(latency_ms)
            using errcode = 'GZ016', hint = 'Pass one element per job in every array.';
    end if;

    -- Completing is idempotent and atomic: if a crash loses this commit, the predictions and the
    -- job deletions are lost together and the jobs are scored again. So the daemon's transaction
    -- does not wait for its WAL flush, and waiting predict_galaxy calls see the result sooner.
    perform set_config('synchronous_commit', 'off', true);

    -- Only jobs this daemon still leases; a job taken over by another daemon is left to it.
    mine := array(
        select q.id from galaxy.queue q
        where q.id = any(job_ids) and q.lease_owner = daemon and q.model_id is not null
        order by q.id
        for update of q);
    if cardinality(mine) = 0 then
        return '{}';
    end if;

    insert into galaxy.predictions as p (image_id, model_id, label, class, probabilities, scored_at,
                                         model_sha256, image_sha256, preprocessing, latency_ms, scored_by, batch_id,
                                         precision)
    select distinct on (q.image_id, q.model_id)
           q.image_id, q.model_id, r.label, r.class, r.probs, clock_timestamp(),
           m.sha256, i.jpeg_sha256, coalesce(preprocessing, '{}'), r.latency, daemon, q.batch_id,
           coalesce(m.metadata->>'precision', 'fp32')
    from unnest(job_ids, labels, classes, probabilities, latency_ms) as r(job_id, label, class, probs, latency)
    join galaxy.queue q on q.id = r.job_id
    join galaxy.models m on m.id = q.model_id
    join galaxy.images i on i.id = q.image_id
    where q.id = any(mine)
    order by q.image_id, q.model_id, q.id desc
    on conflict (image_id, model_id) do update
    set label = excluded.label, class = excluded.class, probabilities = excluded.probabilities,
        scored_at = excluded.scored_at, model_sha256 = excluded.model_sha256,
        image_sha256 = excluded.image_sha256, preprocessing = excluded.preprocessing,
        latency_ms = excluded.latency_ms, scored_by = excluded.scored_by, batch_id = excluded.batch_id,
        precision = excluded.precision;

    -- An earlier failure of the same image and model is superseded.
    delete from galaxy.failed_jobs f
    using galaxy.queue q
    where q.id = any(mine) and f.image_id = q.image_id and f.model_id = q.model_id;

    with gone as (
        delete from galaxy.queue q where q.id = any(mine) returning q.batch_id
    )
    select array_agg(g.batch_id) into batch_ids from gone g;
    perform galaxy.count_batch_results(batch_ids, '{}');

    update galaxy.daemons d set heartbeat_at = clock_timestamp(), stopped_at = null
    where d.name = daemon and d.heartbeat_at < clock_timestamp() - interval '1 second';
    return mine;
end;
$$;

-- Applies the daemon's decision for each failed job: a retry_after_seconds of 'Infinity' (a
-- permanent failure such as a corrupt JPEG) or a job out of attempts moves to failed_jobs with its
-- error and code; any other job is queued again after retry_after_seconds. The policy itself lives
-- in the daemon (RetryPolicy, docs/daemon.md).
create or replace function galaxy.fail_jobs(daemon text, job_ids bigint[], errors text[], error_codes text[],
                                            retry_after_seconds double precision[])
returns bigint[]
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    mine bigint[];
    final_ids bigint[];
    batch_ids bigint[];
    n integer := coalesce(cardinality(job_ids), 0);
begin
    if n = 0 then
        return '{}';
    end if;
    if coalesce(cardinality(errors), 0) <> n or coalesce(cardinality(error_codes), 0) <> n
       or coalesce(cardinality(retry_after_seconds), 0) <> n then
        raise exception 'fail_jobs: % job ids but % errors, % codes, % retry delays', n, cardinality(errors),
                        cardinality(error_codes), cardinality(retry_after_seconds)
            using errcode = 'GZ016', hint = 'Pass one error, code and retry delay per job.';
    end if;
    if exists (select 1 from unnest(retry_after_seconds) as d(seconds) where d.seconds is null or d.seconds < 0) then
        raise exception 'fail_jobs: a retry delay is null or negative'
            using errcode = 'GZ016', hint = 'Pass seconds >= 0, or ''Infinity'' to fail the job now.';
    end if;

    mine := array(
        select q.id from galaxy.queue q
        where q.id = any(job_ids) and q.lease_owner = daemon
        order by q.id
        for update of q);
    if cardinality(mine) = 0 then
        return '{}';
    end if;

    with decided as (
        select distinct on (u.job_id) u.job_id, u.error, u.code, u.seconds
        from unnest(job_ids, errors, error_codes, retry_after_seconds) as u(job_id, error, code, seconds)
        where u.job_id = any(mine)
        order by u.job_id
    ), gone as (
        -- Permanent or out of attempts: move to failed_jobs with the error.
        delete from galaxy.queue q
        using decided d
        where q.id = d.job_id and (d.seconds = 'Infinity' or q.attempts >= q.max_attempts)
        returning q.*, d.error as failure, d.code as failure_code
    ), moved as (
        insert into galaxy.failed_jobs (job_id, image_id, model_id, batch_id, priority, attempts,
                                        max_attempts, error, error_code, failed_by, enqueued_at)
        select g.id, g.image_id, g.model_id, g.batch_id, g.priority, g.attempts, g.max_attempts,
               coalesce(g.failure, 'unknown error'), g.failure_code, daemon, g.enqueued_at
        from gone g
        returning job_id, batch_id
    )
    select array_agg(m.job_id order by m.job_id), array_agg(m.batch_id) into final_ids, batch_ids from moved m;

    -- A job of a cancelled batch is not retried.
    delete from galaxy.queue q
    using galaxy.batches b
    where q.id = any(mine) and q.batch_id = b.id and b.status = 'cancelled';

    -- Otherwise queue it again after the daemon's delay.
    update galaxy.queue q
    set lease_owner = null,
        lease_expires_at = null,
        last_error = d.error,
        last_error_code = d.code,
        run_after = clock_timestamp() + make_interval(secs => d.seconds)
    from (select distinct on (u.job_id) u.job_id, u.error, u.code, u.seconds
          from unnest(job_ids, errors, error_codes, retry_after_seconds) as u(job_id, error, code, seconds)
          order by u.job_id) d
    where q.id = d.job_id and q.id = any(mine);

    perform galaxy.count_batch_results('{}', batch_ids);
    return coalesce(final_ids, '{}');
end;
$$;

create or replace function galaxy.release_jobs(daemon text)
returns integer
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    released integer;
begin
    -- A released job was not really tried: give the attempt back.
    update galaxy.queue q
    set lease_owner = null, lease_expires_at = null, attempts = greatest(q.attempts - 1, 0)
    where q.lease_owner = daemon;
    get diagnostics released = row_count;
    if released > 0 then
        perform pg_notify('galaxy_jobs', '');
    end if;
    return released;
end;
$$;

-- Registry state for daemons: which models exist, which is active, which wait for validation.
create or replace function galaxy.daemon_models()
returns table (model_id bigint, name text, status text, active boolean, sha256 bytea)
language sql stable security definer
set search_path = pg_catalog, galaxy
as $$
    select m.id, m.name, m.status, m.active, m.sha256 from galaxy.models m order by m.id
$$;

-- The ONNX bytes of one model (to load or to validate it).
create or replace function galaxy.model_onnx(model_id bigint)
returns bytea
language plpgsql stable security definer
set search_path = pg_catalog, galaxy
as $$
declare
    bytes bytea;
begin
    select m.onnx into bytes from galaxy.models m where m.id = model_onnx.model_id;
    if not found then
        raise exception 'model % does not exist', model_id
            using errcode = 'GZ002', hint = 'It was removed; reload the registry with galaxy.daemon_models().';
    end if;
    return bytes;
end;
$$;

-- Where the queue stands, per model and priority (null model: the active model at claim time).
create or replace view galaxy.queue_summary as
select coalesce(m.name, '(active model)') as model,
       q.priority,
       count(*) as jobs,
       count(*) filter (where q.lease_owner is not null and q.lease_expires_at >= now()) as being_scored,
       count(*) filter (where q.lease_owner is null and q.run_after > now()) as waiting_to_retry,
       count(*) filter (where q.attempts > 0) as retried,
       min(q.enqueued_at) as oldest_enqueued_at
from galaxy.queue q
left join galaxy.models m on m.id = q.model_id
group by m.name, q.priority;

comment on view galaxy.queue_summary is 'Queued jobs per model and priority: being scored, waiting to retry, oldest';

-- Queues failed jobs again (those of the given images, or all), at interactive priority and
-- outside their batch; their failed_jobs rows go once the image scores. Returns how many.
create or replace function galaxy.retry_failed(image_ids bigint[] default null)
returns bigint
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    queued bigint;
begin
    insert into galaxy.queue (image_id, model_id, priority)
    select distinct f.image_id, f.model_id, galaxy.interactive_priority()
    from galaxy.failed_jobs f
    where (image_ids is null or f.image_id = any(image_ids))
      and not exists (select 1 from galaxy.queue q
                      where q.image_id = f.image_id and q.model_id is not distinct from f.model_id)
    order by f.image_id;
    get diagnostics queued = row_count;
    return queued;
end;
$$;

-- Grants for what this file created or replaced (see R__0000_roles.sql).
select galaxy.apply_grants();
