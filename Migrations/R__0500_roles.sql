-- Least-privilege group roles (NOLOGIN; grant them to login roles):
--   galaxy_daemon       the daemon protocol functions, nothing else
--   galaxy_analyst      predict_galaxy, galaxy.prediction, galaxy.score; reads predictions, images,
--                       batches and the model list (not the ONNX bytes)
--   galaxy_model_admin  everything an analyst can do, plus the model registry and batch jobs
-- Re-runnable: roles are created only when missing, grants are idempotent.

do $$
declare
    role_name text;
begin
    foreach role_name in array array['galaxy_daemon', 'galaxy_analyst', 'galaxy_model_admin'] loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = role_name) then
            execute format('create role %I nologin', role_name);
        end if;
    end loop;
end;
$$;

-- Nothing in the schema is executable by everyone; the roles below get what they need.
revoke all on all functions in schema galaxy from public;
revoke all on all procedures in schema galaxy from public;
revoke all on function public.predict_galaxy(bigint, text) from public;
revoke all on all tables in schema galaxy from public;

grant usage on schema galaxy to galaxy_daemon, galaxy_analyst, galaxy_model_admin;

-- The daemon never touches tables: every protocol function is SECURITY DEFINER.
grant execute on function
    galaxy.daemon_register(text, text, integer, text),
    galaxy.daemon_heartbeat(text),
    galaxy.daemon_stopped(text),
    galaxy.claim_jobs(text, integer, double precision),
    galaxy.complete_jobs(text, bigint[], text[], text[], jsonb[], real[], jsonb),
    galaxy.fail_jobs(text, bigint[], text[], double precision),
    galaxy.release_jobs(text),
    galaxy.model_validated(bigint, jsonb, text[]),
    galaxy.model_rejected(bigint, text),
    galaxy.daemon_models(),
    galaxy.model_onnx(bigint)
to galaxy_daemon;

-- Analysts: the prediction interface (SECURITY DEFINER where it reads the queue or enqueues) and
-- read access to results. The models table (ONNX bytes) stays hidden behind galaxy.model_list.
grant execute on function
    public.predict_galaxy(bigint, text),
    galaxy.predict(bigint, text),
    galaxy.prediction(bigint, text),
    galaxy.request_scoring(bigint[], text, boolean),
    galaxy.scoring_status(bigint[], bigint, timestamptz),
    galaxy.batch_summary(bigint),
    galaxy.live_daemon_count(),
    galaxy.setting_interval(text, interval),
    galaxy.format_seconds(interval),
    galaxy.set_waiting(bigint[], boolean),
    galaxy.waiter_lock_class(),
    galaxy.waiter_lock_key(bigint),
    galaxy.predict_timeout(),
    galaxy.daemon_timeout(),
    galaxy.interactive_priority(),
    galaxy.batch_priority()
to galaxy_analyst;
grant execute on procedure galaxy.score(bigint[], text, interval, boolean) to galaxy_analyst;
grant select on galaxy.images, galaxy.predictions, galaxy.prediction_details, galaxy.model_list,
    galaxy.batches, galaxy.batch_progress, galaxy.failed_jobs, galaxy.daemons, galaxy.queue_summary
to galaxy_analyst;

-- Model admins: analysts who also manage the registry and batches, with their own privileges
-- (SECURITY INVOKER), so a batch's selection query runs as them.
do $$
begin
    if not pg_catalog.pg_has_role('galaxy_model_admin', 'galaxy_analyst', 'member') then
        grant galaxy_analyst to galaxy_model_admin;
    end if;
end;
$$;
grant execute on function
    galaxy.add_model(text, bytea, boolean),
    galaxy.activate_model(text, boolean),
    galaxy.activate_model_id(bigint, boolean, text),
    galaxy.remove_model(text),
    galaxy.model_validated(bigint, jsonb, text[]),
    galaxy.model_rejected(bigint, text),
    galaxy.start_batch(text, text, integer),
    galaxy.enqueue_batch(bigint, text, bigint[], integer, text, text),
    galaxy.cancel_batch(bigint),
    galaxy.retry_failed(bigint[]),
    galaxy.resolve_model(text),
    galaxy.notify_models(text, galaxy.model_ref)
to galaxy_model_admin;
grant select, insert, update, delete on galaxy.models, galaxy.queue, galaxy.batches to galaxy_model_admin;
grant select on galaxy.images, galaxy.predictions, galaxy.failed_jobs to galaxy_model_admin;
grant delete on galaxy.failed_jobs to galaxy_model_admin;
grant usage on all sequences in schema galaxy to galaxy_model_admin;
