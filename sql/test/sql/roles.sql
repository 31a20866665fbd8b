-- Roles: what galaxy_daemon, galaxy_analyst and galaxy_model_admin may and may not do.
\set SHOW_CONTEXT never
\set VERBOSITY terse
set client_min_messages = warning;
truncate galaxy.images, galaxy.models, galaxy.batches, galaxy.daemons, galaxy.failed_jobs,
         galaxy.queue, galaxy.predictions restart identity cascade;
reset client_min_messages;

select rolname, rolcanlogin from pg_roles where rolname like 'galaxy\_%' order by rolname;
select pg_has_role('galaxy_model_admin', 'galaxy_analyst', 'member') as admin_is_analyst;

insert into galaxy.images (jpeg) values ('\xffd801'), ('\xffd802');
select galaxy.add_model('m1', '\x01');

-- The daemon: protocol functions only.
set role galaxy_daemon;
select galaxy.daemon_register('d1', 'h', 1, '1');
select galaxy.daemon_models();
select length(galaxy.model_onnx(1)) as onnx_bytes;
select galaxy.model_validated(1, '{}', array['E0', 'Sc']);
reset role;
select galaxy.activate_model('m1', rescore => false);
set role galaxy_daemon;
select job_id, image_id, model_id from galaxy.claim_jobs('d1', 1, 60);
select galaxy.complete_jobs('d1', array[1::bigint], array['E0'], array['elliptical'],
                            array['{"E0": 1}'::jsonb], array[1::real], '{}');
select galaxy.daemon_heartbeat('d1');
select count(*) from galaxy.queue;
select count(*) from galaxy.predictions;
select count(*) from galaxy.models;
select predict_galaxy(1);
select galaxy.add_model('m2', '\x02');
select galaxy.start_batch();
reset role;

-- The analyst: predictions, details, the model list; not the ONNX bytes, not the registry.
set role galaxy_analyst;
select predict_galaxy(1);
select class from galaxy.prediction(1);
select image_id, model, class from galaxy.prediction_details;
select name, status, active from galaxy.model_list;
select count(*) from galaxy.predictions;
select count(*) as images from galaxy.images;
select count(*) as batches from galaxy.batch_progress;
select count(*) as failures from galaxy.failed_jobs;
select count(*) as queue_rows from galaxy.queue_summary;
select galaxy.retry_failed();
select onnx from galaxy.models;
select count(*) from galaxy.queue;
insert into galaxy.queue (image_id) values (1);
delete from galaxy.predictions;
select galaxy.add_model('m2', '\x02');
select galaxy.activate_model('m1');
select galaxy.start_batch();
select * from galaxy.claim_jobs('d1', 1, 60);
select galaxy.complete_jobs('d1', '{}', '{}', '{}', '{}', '{}', '{}');
-- predict_galaxy reads the queue and daemons through SECURITY DEFINER: the waiting path works.
set galaxy.predict_timeout = '10ms';
select predict_galaxy(2);
reset galaxy.predict_timeout;
call galaxy.score(array[2], timeout => '10ms');
call galaxy.score(array[1]);
reset role;

-- The model admin: registry and batches, plus everything an analyst can do.
set role galaxy_model_admin;
select galaxy.add_model('m2', '\x02');
select galaxy.model_validated(2, '{}', array['E0', 'Sc']);
select galaxy.activate_model('m2', rescore => false);
select galaxy.start_batch('select id from galaxy.images', model => 'm1') as batch_id;
select id, model, total, created_by from galaxy.batch_progress;
select galaxy.cancel_batch(1);
select galaxy.activate_model('m1', rescore => false);
select galaxy.remove_model('m2');
select galaxy.retry_failed();
select predict_galaxy(1);
select * from galaxy.claim_jobs('d1', 1, 60);
reset role;

-- Security definer functions pin their search_path.
select p.proname
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = 'galaxy' and p.prosecdef
  and not coalesce('search_path=pg_catalog, galaxy' = any(p.proconfig), false)
order by 1;
-- Nothing in the schema is executable by PUBLIC.
select p.oid::regprocedure
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where (n.nspname = 'galaxy' or p.proname = 'predict_galaxy')
  and has_function_privilege('public', p.oid, 'execute')
order by 1;
