-- Batch scoring for DBAs: start, progress, cancel, per-class summary.
-- Re-runnable: every object is created with CREATE OR REPLACE.

-- Creates a batch for model_id and queues its images: selection 'all' (every image), 'unscored'
-- (images without a prediction under the model) or 'ids' (the given image_ids). Images that already
-- have a queued job for the model are left to that job. Returns the batch id.
create or replace function galaxy.enqueue_batch(model_id bigint, selection text, image_ids bigint[],
                                                priority integer, description text,
                                                created_by text default current_user)
returns bigint
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
    batch galaxy.batches;
    queued bigint;
begin
    select x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m from galaxy.models x where x.id = enqueue_batch.model_id;
    insert into galaxy.batches (model_id, model_name, selection, priority, created_by)
    values (m.id, m.name, description, enqueue_batch.priority, coalesce(enqueue_batch.created_by, current_user))
    returning * into batch;

    insert into galaxy.queue (image_id, model_id, priority, batch_id)
    select i.id, m.id, batch.priority, batch.id
    from galaxy.images i
    where case selection
              when 'all' then true
              when 'unscored' then not exists (select 1 from galaxy.predictions p
                                               where p.image_id = i.id and p.model_id = m.id)
              else i.id = any(image_ids)
          end
      and not exists (select 1 from galaxy.queue q
                      where q.image_id = i.id and (q.model_id = m.id or (q.model_id is null and m.active)))
    order by i.id;
    get diagnostics queued = row_count;

    update galaxy.batches b
    set total = queued,
        status = case when queued = 0 then 'done' else 'running' end,
        finished_at = case when queued = 0 then clock_timestamp() end
    where b.id = batch.id;
    if queued = 0 then
        perform pg_notify('galaxy_batches', batch.id::text);
    end if;
    return batch.id;
end;
$$;

-- Starts a batch: selection is 'unscored' (default), 'all', or any SQL query whose first column is
-- image ids (run with the caller's privileges); model is a model name or null for the active one;
-- priority must stay below interactive work (100). Returns the batch id.
create or replace function galaxy.start_batch(selection text default 'unscored', model text default null,
                                              priority integer default 10)
returns bigint
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
    ids bigint[];
    query text;
    selection_cursor refcursor;
    mode text := lower(btrim(coalesce(selection, 'unscored')));
begin
    if priority is null or priority < 0 or priority >= galaxy.interactive_priority() then
        raise exception 'batch priority must be between 0 and %, got %', galaxy.interactive_priority() - 1, priority
            using errcode = 'GZ016', hint = 'Batches run below interactive work; the default is 10.';
    end if;
    m := galaxy.resolve_model(model);
    if mode in ('all', 'unscored') then
        return galaxy.enqueue_batch(m.id, mode, null, priority, mode, current_user);
    end if;
    query := format('select distinct s.id::bigint from (%s) as s(id) where s.id is not null',
                    btrim(selection, E' \t\n;'));
    begin
        -- Opening a cursor plans the text without running it and refuses anything but one query,
        -- so the selection cannot smuggle in a second statement; as a subquery it cannot modify
        -- data through WITH either. It still runs with the caller's privileges.
        open selection_cursor for execute query;
        close selection_cursor;
        execute format('select array(%s)', query) into ids;
    exception
        when syntax_error or undefined_table or undefined_column or undefined_function or datatype_mismatch
             or invalid_text_representation or cannot_coerce or invalid_cursor_definition
             or feature_not_supported or wrong_object_type then
            raise exception 'galaxy.start_batch: the selection query failed: %', sqlerrm
                using errcode = 'GZ016',
                      hint = 'Pass ''all'', ''unscored'', or one query whose first column is image ids, e.g. ''select id from galaxy.images where label is null''.';
    end;
    return galaxy.enqueue_batch(m.id, 'ids', ids, priority, selection, current_user);
end;
$$;

-- Progress of every batch: counts, rate (jobs finished per second since the start) and ETA.
create or replace view galaxy.batch_progress as
select b.id,
       b.model_name as model,
       b.selection,
       b.priority,
       b.status,
       b.total,
       b.done,
       b.failed,
       greatest(b.total - b.done - b.failed, 0) as remaining,
       case when b.total = 0 then 100.0
            else round(100.0 * (b.done + b.failed) / b.total, 1) end as percent,
       round(((b.done + b.failed) / nullif(extract(epoch from coalesce(b.finished_at, now()) - b.created_at), 0))::numeric, 1)
           as rate_per_second,
       case when b.status = 'running' and b.done + b.failed > 0
            then make_interval(secs => greatest(b.total - b.done - b.failed, 0)
                                       * extract(epoch from now() - b.created_at)::double precision
                                       / (b.done + b.failed))
       end as eta,
       b.created_at,
       b.finished_at,
       b.created_by
from galaxy.batches b;

comment on view galaxy.batch_progress is 'Batch progress: total, done, failed, percent, rate per second and ETA';

-- Cancels a running batch: its unclaimed jobs leave the queue (jobs being scored finish and are
-- counted). Returns how many jobs were removed.
create or replace function galaxy.cancel_batch(batch_id bigint)
returns bigint
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    b galaxy.batches;
    removed bigint;
begin
    select * into b from galaxy.batches x where x.id = batch_id;
    if not found then
        raise exception 'batch % does not exist', batch_id
            using errcode = 'GZ014', hint = 'See select id, status from galaxy.batch_progress.';
    end if;
    if b.status <> 'running' then
        raise exception 'batch % is % and cannot be cancelled', batch_id, b.status
            using errcode = 'GZ015', hint = 'Only running batches can be cancelled.';
    end if;
    -- Jobs a daemon holds locked (it is completing or failing them) are skipped: they finish and
    -- are counted. Skipping also means cancel never waits for a daemon that waits for this batch.
    delete from galaxy.queue q
    where q.id in (select x.id from galaxy.queue x
                   where x.batch_id = cancel_batch.batch_id
                     and (x.lease_owner is null or x.lease_expires_at < clock_timestamp())
                   for update skip locked);
    get diagnostics removed = row_count;
    update galaxy.batches x set status = 'cancelled', finished_at = clock_timestamp()
    where x.id = batch_id and x.status = 'running';
    if not found then
        raise exception 'batch % finished while it was being cancelled', batch_id
            using errcode = 'GZ015', hint = 'See select id, status from galaxy.batch_progress.';
    end if;
    perform pg_notify('galaxy_batches', batch_id::text);
    return removed;
end;
$$;

-- Images per high-level class scored by a batch (final once its status is done).
create or replace function galaxy.batch_summary(batch_id bigint)
returns table (class text, images bigint, share numeric)
language plpgsql stable security definer
set search_path = pg_catalog, galaxy
as $$
#variable_conflict use_column
begin
    if not exists (select 1 from galaxy.batches b where b.id = batch_summary.batch_id) then
        raise exception 'batch % does not exist', batch_id
            using errcode = 'GZ014', hint = 'See select id, status from galaxy.batch_progress.';
    end if;
    return query
    select p.class, count(*)::bigint, round(count(*) * 1.0 / sum(count(*)) over (), 4)
    from galaxy.predictions p
    where p.batch_id = batch_summary.batch_id
    group by p.class
    order by count(*) desc, p.class;
end;
$$;

-- Grants for what this file created or replaced (see R__0000_roles.sql).
select galaxy.apply_grants();
