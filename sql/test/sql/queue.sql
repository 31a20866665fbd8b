-- The queue and the daemon protocol: automatic queueing, claim order, leases, completion,
-- retries with backoff, final failure, release, abandoned leases.
\set SHOW_CONTEXT never
set client_min_messages = warning;
truncate galaxy.images, galaxy.models, galaxy.batches, galaxy.daemons, galaxy.failed_jobs,
         galaxy.queue, galaxy.predictions restart identity cascade;
reset client_min_messages;

-- A committed insert queues the image with defaults: interactive priority, active model.
insert into galaxy.images (jpeg, file_name) values ('\xffd801', 'a.jpg'), ('\xffd802', 'b.jpg');
select id, image_id, model_id, priority, attempts, max_attempts, lease_owner, batch_id
from galaxy.queue order by id;
select id, file_name, encode(jpeg_sha256, 'hex') = encode(sha256(jpeg), 'hex') as sha_ok from galaxy.images;

-- A bare insert into the queue works with defaults.
insert into galaxy.queue (image_id) values (1);
select count(*) as jobs_for_image_1 from galaxy.queue where image_id = 1;
delete from galaxy.queue where id = 3;

-- No model ready: nothing is claimed.
select galaxy.daemon_register('d1', 'host-a', 101, '1.0');
select * from galaxy.claim_jobs('d1', 10, 60);

-- A pending model does not score either; a ready but inactive one scores only explicit jobs.
select galaxy.add_model('m1', '\x0a0b0c');
select * from galaxy.claim_jobs('d1', 10, 60);
select galaxy.model_validated(1, '{"input_size": 50}', array['E0', 'Sc']);
select job_id, image_id, model_id, attempt from galaxy.claim_jobs('d1', 10, 60);

-- Active: jobs without model resolve to it; order is priority, then age.
select galaxy.activate_model('m1', rescore => false);
update galaxy.queue set priority = 5 where image_id = 1;
select job_id, image_id, model_id, attempt, length(jpeg) as jpeg_bytes from galaxy.claim_jobs('d1', 1, 60);
select job_id, image_id, model_id, attempt from galaxy.claim_jobs('d1', 10, 60);
select id, model_id, attempts, lease_owner, lease_expires_at > now() as leased from galaxy.queue order by id;

-- Leased jobs are not claimed again.
select * from galaxy.claim_jobs('d2', 10, 60);

-- Another daemon cannot complete or fail them.
select galaxy.complete_jobs('d2', array[1::bigint], array['E0'], array['elliptical'],
                            array['{"E0": 0.9, "Sc": 0.1}'::jsonb], array[2.5::real], '{}');
select galaxy.fail_jobs('d2', array[1::bigint], array['nope'], array['corrupt_image'], array['Infinity'::float8]);

-- Mismatched arrays are refused.
select galaxy.complete_jobs('d1', array[1::bigint], array['E0', 'Sc'], array['elliptical'],
                            array['{}'::jsonb], array[1::real], '{}');

-- The owner completes: prediction with provenance, job gone, heartbeat kept.
select galaxy.complete_jobs('d1', array[1::bigint, 999], array['E0', 'x'], array['elliptical', 'x'],
                            array['{"E0": 0.9, "Sc": 0.1}'::jsonb, '{}'], array[2.5::real, 1], '{"size": 50}');
select image_id, model_id, label, class, probabilities, preprocessing, latency_ms, scored_by,
       model_sha256 = (select sha256 from galaxy.models where id = 1) as model_sha_ok,
       image_sha256 = (select jpeg_sha256 from galaxy.images where id = 1) as image_sha_ok
from galaxy.predictions;
select id from galaxy.queue order by id;

-- Rescoring the same image and model updates the row, never duplicates it.
insert into galaxy.queue (image_id) values (1);
select job_id from galaxy.claim_jobs('d1', 10, 60);
select galaxy.complete_jobs('d1', array[4::bigint], array['Sc'], array['spiral'],
                            array['{"E0": 0.2, "Sc": 0.8}'::jsonb], array[1.5::real], '{"size": 50}');
select image_id, model_id, label, class from galaxy.predictions;

-- A transient failure is queued again after the daemon's delay until max_attempts, then moves to
-- failed_jobs with its code.
select galaxy.fail_jobs('d1', array[2::bigint], array['model m1 could not be loaded'], array['model_unusable'], array[10::float8]);
select id, attempts, lease_owner, last_error, last_error_code,
       run_after between now() + interval '9 seconds' and clock_timestamp() + interval '10 seconds' as backoff_10s
from galaxy.queue;
select * from galaxy.claim_jobs('d1', 10, 60);  -- not runnable yet
update galaxy.queue set run_after = now() - interval '1 second';
select job_id, attempt from galaxy.claim_jobs('d1', 10, 60);
select galaxy.fail_jobs('d1', array[2::bigint], array['model m1 could not be loaded'], array['model_unusable'], array[20::float8]);
select run_after between now() + interval '19 seconds' and clock_timestamp() + interval '20 seconds' as backoff_20s
from galaxy.queue;
update galaxy.queue set run_after = now() - interval '1 second';
select job_id, attempt from galaxy.claim_jobs('d1', 10, 60);
select galaxy.fail_jobs('d1', array[2::bigint], array['model m1 could not be loaded'], array['model_unusable'], array[40::float8]);
select count(*) as queued from galaxy.queue;
select job_id, image_id, model_id, attempts, max_attempts, error, error_code, failed_by from galaxy.failed_jobs;

-- A delay that is missing or negative is refused.
select galaxy.fail_jobs('d1', array[2::bigint], array['x'], array['model_unusable'], array[-1::float8]);
select galaxy.fail_jobs('d1', array[2::bigint], array['x'], array['model_unusable'], array[null::float8]);
select galaxy.fail_jobs('d1', array[2::bigint], array['x'], array['model_unusable'], array[]::float8[]);

-- release_jobs gives the leases back without counting the attempt.
insert into galaxy.queue (image_id, max_attempts) values (1, 5);
select job_id, attempt from galaxy.claim_jobs('d1', 10, 60);
select galaxy.release_jobs('d1');
select id, attempts, lease_owner from galaxy.queue;

-- An expired lease is taken over by another daemon; the first can then no longer complete.
select job_id, attempt from galaxy.claim_jobs('d1', 10, 60);
update galaxy.queue set lease_expires_at = now() - interval '1 second';
select job_id, attempt from galaxy.claim_jobs('d2', 10, 60);
select galaxy.complete_jobs('d1', array[5::bigint], array['E0'], array['elliptical'],
                            array['{"E0": 1}'::jsonb], array[1::real], '{}');
select id, lease_owner, attempts from galaxy.queue;
select galaxy.complete_jobs('d2', array[5::bigint], array['E0'], array['elliptical'],
                            array['{"E0": 1}'::jsonb], array[1::real], '{}');

-- A job whose lease expired on its last attempt (its daemon died) fails for good at the next claim.
insert into galaxy.queue (image_id, max_attempts) values (2, 1);
select job_id, attempt from galaxy.claim_jobs('d1', 10, 60);
update galaxy.queue set lease_expires_at = now() - interval '1 second';
select * from galaxy.claim_jobs('d2', 10, 60);
select job_id, image_id, attempts, error, error_code from galaxy.failed_jobs where job_id = 6;

-- A later success supersedes the failure.
insert into galaxy.queue (image_id) values (2);
select job_id from galaxy.claim_jobs('d2', 10, 60);
select galaxy.complete_jobs('d2', array[7::bigint], array['Sc'], array['spiral'],
                            array['{"Sc": 1}'::jsonb], array[1::real], '{}');
select count(*) as failures_left from galaxy.failed_jobs where image_id = 2;

-- Failed jobs can be queued again; new JPEG bytes queue the image again.
insert into galaxy.queue (image_id, max_attempts) values (1, 1);
select job_id from galaxy.claim_jobs('d2', 10, 60);
select galaxy.fail_jobs('d2', array[8::bigint], array['corrupt'], array['corrupt_image'], array['Infinity'::float8]);
select galaxy.retry_failed(array[2::bigint]);
select galaxy.retry_failed();
select galaxy.retry_failed();
select image_id, model_id, priority, attempts from galaxy.queue order by id;
select model, priority, jobs, being_scored, waiting_to_retry, retried from galaxy.queue_summary;
delete from galaxy.queue;
update galaxy.images set label = 'E0' where id = 1;
select count(*) as queued_after_label_change from galaxy.queue;
update galaxy.images set jpeg = jpeg where id = 1;
select count(*) as queued_after_same_bytes from galaxy.queue;
update galaxy.images set jpeg = '\xffd8ee' where id = 1;
select image_id, model_id, priority from galaxy.queue;
delete from galaxy.queue;

-- A permanent failure (bad image bytes) moves to failed_jobs at once, though attempts are left.
insert into galaxy.queue (image_id, max_attempts) values (1, 5);
select job_id as bad_bytes_job from galaxy.claim_jobs('d2', 10, 60) \gset
select galaxy.fail_jobs('d2', array[:bad_bytes_job::bigint], array['decode image 1: Premature end of JPEG file'],
                        array['truncated_image'], array['Infinity'::float8]) = array[:bad_bytes_job::bigint]
    as failed_at_once;
select count(*) as queued from galaxy.queue;
select attempts, max_attempts, error, error_code from galaxy.failed_jobs where job_id = :bad_bytes_job;

-- Heartbeats and stop.
select name, host, pid, version, stopped_at is null as running from galaxy.daemons order by name;
select galaxy.daemon_heartbeat('d3');
select galaxy.daemon_stopped('d1');
select name, stopped_at is null as running from galaxy.daemons order by name;
select galaxy.live_daemon_count();

-- Registry view for daemons and model bytes.
select model_id, name, status, active from galaxy.daemon_models();
select galaxy.model_onnx(1);
select galaxy.model_onnx(42);

-- A bad lease is refused; zero jobs asked returns nothing.
select * from galaxy.claim_jobs('d1', 10, 0);
select * from galaxy.claim_jobs('d1', 0, 60);

-- Every claim retires abandoned jobs first, so that must not read the whole queue: it reads the
-- expired leases through an index, even when stale statistics say that most jobs are leased.
insert into galaxy.queue (image_id) select 1 + g % 2 from generate_series(1, 2000) g;
update galaxy.queue set lease_owner = 'd1', lease_expires_at = now() + interval '1 minute';
analyze galaxy.queue;
update galaxy.queue set lease_owner = null, lease_expires_at = null;
begin;
select seq_scan as seq_before, idx_scan as idx_before
from pg_stat_xact_user_tables where relid = 'galaxy.queue'::regclass \gset
select galaxy.retire_abandoned_jobs();
select seq_scan - :seq_before as whole_queue_reads, idx_scan > :idx_before as read_by_index
from pg_stat_xact_user_tables where relid = 'galaxy.queue'::regclass;
commit;
delete from galaxy.queue;
