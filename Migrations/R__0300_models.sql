-- The model registry: add, validate or reject, activate, remove, list.
-- Re-runnable: every object is created with CREATE OR REPLACE.

create or replace function galaxy.notify_models(event text, m galaxy.model_ref) returns void
language sql volatile
as $$
    select pg_notify('galaxy_models',
                     json_build_object('event', event, 'model_id', m.id, 'name', m.name)::text)
$$;

-- Adds a model from its ONNX bytes as pending; a daemon (or galaxy model add) validates it with the
-- engine and calls galaxy.model_validated or galaxy.model_rejected. With activate, the model becomes
-- active (rescoring every image) as soon as it is validated.
create or replace function galaxy.add_model(name text, onnx bytea, activate boolean default false)
returns bigint
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
begin
    if name is null or btrim(name) = '' then
        raise exception 'a model needs a non-empty name'
            using errcode = 'GZ016', hint = 'Pass a name such as ''cnn-v1''.';
    end if;
    if onnx is null or length(onnx) = 0 then
        raise exception 'model "%" has no ONNX bytes', name
            using errcode = 'GZ016', hint = 'Pass the bytes of an .onnx file, e.g. pg_read_binary_file(...) or a bytea parameter.';
    end if;
    if exists (select 1 from galaxy.models x where x.name = add_model.name) then
        raise exception 'a model named "%" already exists', name
            using errcode = 'GZ013', hint = 'Choose another name, or remove the old model first with galaxy.remove_model.';
    end if;
    insert into galaxy.models as x (name, onnx, activate_when_ready)
    values (add_model.name, add_model.onnx, coalesce(activate, false))
    returning x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m;
    perform galaxy.notify_models('added', m);
    return m.id;
end;
$$;

-- Makes the model with this id the active one, atomically; with rescore, queues every image that is
-- not already queued for it as a low-priority batch and returns the batch id.
create or replace function galaxy.activate_model_id(model_id bigint, rescore boolean, created_by text default current_user)
returns bigint
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
    batch bigint;
begin
    -- One activation at a time, so two concurrent ones cannot both pass the checks.
    perform pg_advisory_xact_lock(galaxy.waiter_lock_class(), 0);
    select x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m from galaxy.models x where x.id = model_id for no key update;
    if not found then
        raise exception 'model % does not exist', model_id
            using errcode = 'GZ002', hint = 'See select id, name from galaxy.model_list.';
    end if;
    if m.status <> 'ready' then
        raise exception 'model "%" is % and cannot be activated', m.name, m.status
            using errcode = 'GZ004',
                  detail = coalesce('Validation error: ' || m.error, 'It has not been validated yet.'),
                  hint = case when m.status = 'pending'
                              then 'Wait for a daemon to validate it, or add it with activate => true to activate it once validated.'
                              else 'Fix the ONNX file and add it again under a new name.' end;
    end if;
    if m.active then
        raise notice 'model "%" is already active', m.name;
        return null;
    end if;
    update galaxy.models x set active = false where x.active;
    update galaxy.models x
    set active = true, activated_at = clock_timestamp(), activate_when_ready = false
    where x.id = m.id
    returning x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m;
    if rescore then
        batch := galaxy.enqueue_batch(m.id, 'all', null, galaxy.batch_priority(),
                                      format('rescore on activation of model %s', m.name), created_by);
    end if;
    perform galaxy.notify_models('activated', m);
    return batch;
end;
$$;

create or replace function galaxy.activate_model(name text, rescore boolean default true)
returns bigint
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    model_key bigint;
begin
    select m.id into model_key from galaxy.models m where m.name = activate_model.name;
    if not found then
        raise exception 'model "%" does not exist', name
            using errcode = 'GZ002', hint = 'See select name, status from galaxy.model_list.';
    end if;
    return galaxy.activate_model_id(model_key, coalesce(rescore, true), current_user);
end;
$$;

-- Removes a model with its predictions and queued jobs; never the active one.
create or replace function galaxy.remove_model(name text)
returns void
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
begin
    perform pg_advisory_xact_lock(galaxy.waiter_lock_class(), 0);
    select x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m from galaxy.models x where x.name = remove_model.name for update;
    if not found then
        raise exception 'model "%" does not exist', name
            using errcode = 'GZ002', hint = 'See select name, status from galaxy.model_list.';
    end if;
    if m.active then
        raise exception 'model "%" is active and cannot be removed', name
            using errcode = 'GZ012', hint = 'Activate another model first with galaxy.activate_model(''OTHER'').';
    end if;
    update galaxy.batches b set status = 'cancelled', finished_at = clock_timestamp()
    where b.model_id = m.id and b.status = 'running';
    delete from galaxy.models x where x.id = m.id;
    perform galaxy.notify_models('removed', m);
end;
$$;

-- A daemon or the CLI loaded a pending model with the engine: it is ready (and becomes active if it
-- was added with activate => true). Returns false when the model was not pending.
create or replace function galaxy.model_validated(model_id bigint, metadata jsonb, labels text[])
returns boolean
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
begin
    update galaxy.models x
    set status = 'ready', metadata = coalesce(model_validated.metadata, '{}'), labels = model_validated.labels,
        error = null, validated_at = clock_timestamp()
    where x.id = model_id and x.status = 'pending'
    returning x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m;
    if not found then
        if not exists (select 1 from galaxy.models x where x.id = model_id) then
            raise exception 'model % does not exist', model_id
                using errcode = 'GZ002', hint = 'It was removed meanwhile.';
        end if;
        return false;
    end if;
    perform galaxy.notify_models('validated', m);
    if m.activate_when_ready then
        perform galaxy.activate_model_id(m.id, true, 'activation on validation');
    end if;
    return true;
end;
$$;

-- A daemon or the CLI could not load a pending model: it is rejected with the error and never
-- scores; the active model stays active. Returns false when the model was not pending.
create or replace function galaxy.model_rejected(model_id bigint, error text)
returns boolean
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    m galaxy.model_ref;
begin
    update galaxy.models x
    set status = 'rejected', error = coalesce(model_rejected.error, 'unknown error'),
        validated_at = clock_timestamp(), activate_when_ready = false
    where x.id = model_id and x.status = 'pending'
    returning x.id, x.name, x.status, x.active, x.activate_when_ready, x.error into m;
    if not found then
        if not exists (select 1 from galaxy.models x where x.id = model_id) then
            raise exception 'model % does not exist', model_id
                using errcode = 'GZ002', hint = 'It was removed meanwhile.';
        end if;
        return false;
    end if;
    perform galaxy.notify_models('rejected', m);
    return true;
end;
$$;

-- The registry without the ONNX bytes.
create or replace view galaxy.model_list as
select m.id,
       m.name,
       m.status,
       m.active,
       m.activate_when_ready,
       m.labels,
       encode(m.sha256, 'hex') as sha256,
       octet_length(m.onnx) as onnx_bytes,
       m.error,
       m.metadata,
       m.created_at,
       m.validated_at,
       m.activated_at
from galaxy.models m;

comment on view galaxy.model_list is 'Models with status, labels, sha256 and validation error (without the ONNX bytes)';

-- Grants for what this file created or replaced (see R__0000_roles.sql).
select galaxy.apply_grants();
