-- The model registry: add, validate or reject, activate (atomic, rescoring), remove, list.
\set SHOW_CONTEXT never
set client_min_messages = warning;
truncate galaxy.images, galaxy.models, galaxy.batches, galaxy.daemons, galaxy.failed_jobs,
         galaxy.queue, galaxy.predictions restart identity cascade;
reset client_min_messages;

insert into galaxy.images (jpeg) select decode(lpad(to_hex(n), 6, '0'), 'hex') from generate_series(1, 5) n;
delete from galaxy.queue;  -- start without interactive jobs

-- Adding: pending, with its sha256; names are unique; bytes are required.
select galaxy.add_model('cnn-v1', '\x0801120474657374');
select id, name, status, active, sha256 = encode(sha256('\x0801120474657374'::bytea), 'hex') as sha_ok,
       onnx_bytes, labels, error
from galaxy.model_list;
select galaxy.add_model('cnn-v1', '\x00');
select galaxy.add_model('', '\x00');
select galaxy.add_model('empty', '');

-- A pending model cannot be activated.
select galaxy.activate_model('cnn-v1');
select galaxy.activate_model('nope');

-- Validation stores metadata and labels; a second verdict changes nothing.
select galaxy.model_validated(1, '{"input_size": 50, "crop_fraction": 0.26}', array['E0', 'Sc', 'SBc']);
select galaxy.model_rejected(1, 'too late');
select galaxy.model_validated(999, '{}', '{}');
select name, status, labels, metadata from galaxy.model_list;

-- Activation: atomic, rescoring every image as a low-priority batch.
select galaxy.activate_model('cnn-v1') as batch_id;
select name, active, activated_at is not null as has_activated_at from galaxy.model_list;
select id, model, selection, priority, status, total, done, failed from galaxy.batch_progress;
select count(*) as jobs, min(priority) as priority, count(distinct batch_id) as batches, min(model_id) as model
from galaxy.queue;
select galaxy.activate_model('cnn-v1');  -- already active: nothing happens

-- A model that fails to load is rejected with its error; the active model stays active.
select galaxy.add_model('broken', '\xdeadbeef', activate => true);
select galaxy.model_rejected(2, 'ONNX parse error at byte 0: not a ModelProto');
select name, status, active, activate_when_ready, error from galaxy.model_list order by id;
select galaxy.activate_model('broken');

-- A model added with activate => true becomes active once validated, and rescoring starts.
select galaxy.add_model('cnn-v2', '\x0802', activate => true);
select name, status, active from galaxy.model_list order by id;
select galaxy.model_validated(3, '{}', array['E0', 'Sc']);
select name, status, active, activate_when_ready from galaxy.model_list order by id;
select id, model, priority, status, total from galaxy.batch_progress order by id;
select count(*) filter (where model_id = 3) as v2_jobs, count(*) filter (where model_id = 1) as v1_jobs from galaxy.queue;

-- Switching back without rescoring queues nothing.
select galaxy.activate_model('cnn-v1', rescore => false);
select name, active from galaxy.model_list order by id;

-- At most one active model, even written directly.
\set VERBOSITY terse
update galaxy.models set active = true where name = 'cnn-v2';
-- Only ready models may be active.
update galaxy.models set active = true where name = 'broken';
\set VERBOSITY default

-- Removing: never the active one; otherwise its batches are cancelled and its jobs dropped.
select galaxy.remove_model('cnn-v1');
select galaxy.remove_model('cnn-v2');
select galaxy.remove_model('cnn-v2');
select name, status, active from galaxy.model_list order by id;
select id, model, status from galaxy.batch_progress order by id;
select count(*) filter (where model_id = 3) as v2_jobs from galaxy.queue;
