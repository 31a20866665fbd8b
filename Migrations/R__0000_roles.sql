-- Least-privilege group roles (NOLOGIN; grant them to login roles):
--   galaxy_daemon       the daemon protocol functions, nothing else
--   galaxy_analyst      predict_galaxy, galaxy.prediction, galaxy.score; reads predictions, images,
--                       batches, the queue summary and the model list (not the ONNX bytes)
--   galaxy_model_admin  everything an analyst can do, plus the model registry and batch jobs
--
-- The grants live in galaxy.apply_grants(), which every repeatable file calls at its end: the
-- migrator re-runs only the files that changed, and a function recreated or added by any of them
-- gets its grants (and loses PUBLIC's default EXECUTE) in the same run. Objects that do not exist
-- yet (a fresh install runs the files in order) are skipped until a later file creates them.
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
    if not pg_catalog.pg_has_role('galaxy_model_admin', 'galaxy_analyst', 'member') then
        grant galaxy_analyst to galaxy_model_admin;
    end if;
end;
$$;

create or replace function galaxy.apply_grants() returns void
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
declare
    g record;
begin
    -- Nothing in the schema is executable or readable by everyone.
    revoke all on all routines in schema galaxy from public;
    revoke all on all tables in schema galaxy from public;
    if to_regprocedure('public.predict_galaxy(bigint, text)') is not null then
        revoke all on function public.predict_galaxy(bigint, text) from public;
    end if;
    grant usage on schema galaxy to galaxy_daemon, galaxy_analyst, galaxy_model_admin;

    for g in
        select * from (values
            -- The daemon never touches tables: every protocol function is SECURITY DEFINER.
            ('galaxy_daemon', 'galaxy.daemon_register(text, text, integer, text)'),
            ('galaxy_daemon', 'galaxy.daemon_heartbeat(text)'),
            ('galaxy_daemon', 'galaxy.daemon_stopped(text)'),
            ('galaxy_daemon', 'galaxy.claim_jobs(text, integer, double precision)'),
            ('galaxy_daemon', 'galaxy.complete_jobs(text, bigint[], text[], text[], jsonb[], real[], jsonb)'),
            ('galaxy_daemon', 'galaxy.fail_jobs(text, bigint[], text[], text[], double precision[])'),
            ('galaxy_daemon', 'galaxy.release_jobs(text)'),
            ('galaxy_daemon', 'galaxy.model_validated(bigint, jsonb, text[])'),
            ('galaxy_daemon', 'galaxy.model_rejected(bigint, text)'),
            ('galaxy_daemon', 'galaxy.daemon_models()'),
            ('galaxy_daemon', 'galaxy.model_onnx(bigint)'),
            -- Analysts: the prediction interface (SECURITY DEFINER where it reads the queue or
            -- enqueues) and what galaxy.score, which must COMMIT and so runs as the caller, calls.
            ('galaxy_analyst', 'public.predict_galaxy(bigint, text)'),
            ('galaxy_analyst', 'galaxy.predict(bigint, text)'),
            ('galaxy_analyst', 'galaxy.prediction(bigint, text)'),
            ('galaxy_analyst', 'galaxy.score(bigint[], text, interval, boolean)'),
            ('galaxy_analyst', 'galaxy.request_scoring(bigint[], text, boolean)'),
            ('galaxy_analyst', 'galaxy.scoring_status(bigint[], bigint, timestamptz)'),
            ('galaxy_analyst', 'galaxy.set_waiting(bigint[], boolean)'),
            ('galaxy_analyst', 'galaxy.batch_summary(bigint)'),
            ('galaxy_analyst', 'galaxy.live_daemon_count()'),
            ('galaxy_analyst', 'galaxy.setting_interval(text, interval)'),
            ('galaxy_analyst', 'galaxy.format_seconds(interval)'),
            ('galaxy_analyst', 'galaxy.waiter_lock_class()'),
            ('galaxy_analyst', 'galaxy.waiter_lock_key(bigint)'),
            ('galaxy_analyst', 'galaxy.predict_timeout()'),
            ('galaxy_analyst', 'galaxy.daemon_timeout()'),
            ('galaxy_analyst', 'galaxy.interactive_priority()'),
            ('galaxy_analyst', 'galaxy.batch_priority()'),
            ('galaxy_analyst', 'galaxy.classify(bytea, text)'),
            ('galaxy_analyst', 'galaxy.classify_many(bytea[], text)'),
            ('galaxy_analyst', 'galaxy.raise_library_missing()'),
            ('galaxy_analyst', 'galaxy.classify_model(text)'),
            ('galaxy_analyst', 'galaxy.predict_timeout_ms()'),
            ('galaxy_analyst', 'galaxy.classify_available()'),
            ('galaxy_analyst', 'galaxy.classify_configured()'),
            ('galaxy_analyst', 'galaxy.classify_stored_image(bigint, text)'),
            ('galaxy_analyst', 'galaxy.score_on_insert()'),
            -- Model admins (members of galaxy_analyst) run the registry and batch functions with
            -- their own privileges, so a batch's selection query reads only what they may read.
            ('galaxy_model_admin', 'galaxy.add_model(text, bytea, boolean)'),
            ('galaxy_model_admin', 'galaxy.activate_model(text, boolean)'),
            ('galaxy_model_admin', 'galaxy.activate_model_id(bigint, boolean, text)'),
            ('galaxy_model_admin', 'galaxy.remove_model(text)'),
            ('galaxy_model_admin', 'galaxy.model_validated(bigint, jsonb, text[])'),
            ('galaxy_model_admin', 'galaxy.model_rejected(bigint, text)'),
            ('galaxy_model_admin', 'galaxy.start_batch(text, text, integer)'),
            ('galaxy_model_admin', 'galaxy.enqueue_batch(bigint, text, bigint[], integer, text, text)'),
            ('galaxy_model_admin', 'galaxy.cancel_batch(bigint)'),
            ('galaxy_model_admin', 'galaxy.retry_failed(bigint[])'),
            ('galaxy_model_admin', 'galaxy.resolve_model(text)'),
            ('galaxy_model_admin', 'galaxy.notify_models(text, galaxy.model_ref)')
        ) as r(role_name, routine)
    loop
        if to_regprocedure(g.routine) is not null then
            execute format('grant execute on routine %s to %I', g.routine, g.role_name);
        end if;
    end loop;

    for g in
        select * from (values
            ('galaxy_analyst', 'select', 'galaxy.images'),
            ('galaxy_analyst', 'select', 'galaxy.predictions'),
            ('galaxy_analyst', 'select', 'galaxy.prediction_details'),
            ('galaxy_analyst', 'select', 'galaxy.model_list'),
            ('galaxy_analyst', 'select', 'galaxy.batches'),
            ('galaxy_analyst', 'select', 'galaxy.batch_progress'),
            ('galaxy_analyst', 'select', 'galaxy.failed_jobs'),
            ('galaxy_analyst', 'select', 'galaxy.daemons'),
            ('galaxy_analyst', 'select', 'galaxy.queue_summary'),
            ('galaxy_model_admin', 'select, insert, update, delete', 'galaxy.models'),
            ('galaxy_model_admin', 'select, insert, update, delete', 'galaxy.queue'),
            ('galaxy_model_admin', 'select, insert, update, delete', 'galaxy.batches'),
            ('galaxy_model_admin', 'select, delete', 'galaxy.failed_jobs')
        ) as r(role_name, privileges, relation)
    loop
        if to_regclass(g.relation) is not null then
            execute format('grant %s on %s to %I', g.privileges, g.relation, g.role_name);
        end if;
    end loop;
    grant usage on all sequences in schema galaxy to galaxy_model_admin;
end;
$$;

select galaxy.apply_grants();
