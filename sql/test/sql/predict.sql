-- predict_galaxy, galaxy.prediction and galaxy.score: every path one session can reach, with the
-- daemon simulated through the protocol functions.
\set SHOW_CONTEXT never
set client_min_messages = warning;
truncate galaxy.images, galaxy.models, galaxy.batches, galaxy.daemons, galaxy.failed_jobs,
         galaxy.queue, galaxy.predictions restart identity cascade;
reset client_min_messages;

-- Reports the SQLSTATE, message and hint of a failing statement.
create function pg_temp.error_of(statement text) returns text
language plpgsql as $$
declare
    state text; message text; hint text;
begin
    execute statement;
    return 'no error';
exception when others then
    get stacked diagnostics state = returned_sqlstate, message = message_text, hint = pg_exception_hint;
    return state || ': ' || message || coalesce(' | hint: ' || nullif(hint, ''), '');
end;
$$;

-- Scores every claimable job as a daemon would: label from the image's known label.
create function pg_temp.score_all(daemon text) returns bigint[]
language plpgsql as $$
declare
    ids bigint[]; labels text[]; classes text[]; probs jsonb[]; lat real[];
begin
    select array_agg(c.job_id order by c.job_id), array_agg(coalesce(i.label, 'Sc') order by c.job_id),
           array_agg(case coalesce(i.label, 'Sc') when 'E0' then 'elliptical' else 'spiral' end order by c.job_id),
           array_agg(jsonb_build_object(coalesce(i.label, 'Sc'), 1.0) order by c.job_id),
           array_agg(1.0::real order by c.job_id)
    into ids, labels, classes, probs, lat
    from galaxy.claim_jobs(daemon, 100, 60) c join galaxy.images i on i.id = c.image_id;
    return galaxy.complete_jobs(daemon, ids, labels, classes, probs, lat, '{"size": 50}');
end;
$$;

insert into galaxy.images (jpeg, label) values ('\xffd801', 'E0'), ('\xffd802', 'Sc'), ('\xffd803', null);

-- No active model.
select pg_temp.error_of('select predict_galaxy(1)');
-- Unknown model, pending model, rejected model.
select pg_temp.error_of($$select predict_galaxy(1, model => 'nope')$$);
select galaxy.add_model('m1', '\x01');
select pg_temp.error_of($$select predict_galaxy(1, model => 'm1')$$);
select galaxy.add_model('bad', '\x02');
select galaxy.model_rejected(2, 'node Conv_3: unsupported attribute group=2');
select pg_temp.error_of($$select predict_galaxy(1, model => 'bad')$$);
select galaxy.model_validated(1, '{}', array['E0', 'Sc']);
select galaxy.activate_model('m1', rescore => false);

-- Unknown image, null id.
select pg_temp.error_of('select predict_galaxy(424242)');
select pg_temp.error_of('select predict_galaxy(null)');

-- Queued, but no live daemon (none registered; then one whose heartbeat is too old; then stopped).
select pg_temp.error_of('select predict_galaxy(1)');
select galaxy.daemon_register('d1', 'host-a', 1, '1.0');
update galaxy.daemons set heartbeat_at = now() - interval '1 minute';
select pg_temp.error_of('select predict_galaxy(1)');
set galaxy.daemon_timeout = '2 min';
select galaxy.live_daemon_count();
reset galaxy.daemon_timeout;
select galaxy.daemon_heartbeat('d1');
select galaxy.daemon_stopped('d1');
select pg_temp.error_of('select predict_galaxy(1)');
select galaxy.daemon_register('d1', 'host-a', 1, '1.0');

-- Queued with a live daemon that does not take the job: the wait ends at galaxy.predict_timeout.
set galaxy.predict_timeout = '50ms';
select pg_temp.error_of('select predict_galaxy(1)');
set galaxy.predict_timeout = 'soon';
select pg_temp.error_of('select predict_galaxy(1)');
set galaxy.predict_timeout = 0.05;
select pg_temp.error_of('select predict_galaxy(1)');
reset galaxy.predict_timeout;

-- A job waiting out a retry delay longer than the timeout fails at once, with its last error.
select job_id from galaxy.claim_jobs('d1', 1, 60);
select galaxy.fail_jobs('d1', array[1::bigint], array['model m1 could not be loaded'], array['model_unusable'], array[600::float8]);
select pg_temp.error_of('select predict_galaxy(1)');
update galaxy.queue set run_after = now() where id = 1;

-- While waiting, predict_galaxy holds the waiter lock that claim_jobs consults; claim_jobs takes
-- waited-on images first, even from a low-priority batch.
update galaxy.queue set priority = 1 where image_id = 3;
select pg_advisory_lock_shared(galaxy.waiter_lock_class(), galaxy.waiter_lock_key(3));
select galaxy.waited_image_keys();
select job_id, image_id from galaxy.claim_jobs('d1', 1, 60);
select pg_advisory_unlock_shared(galaxy.waiter_lock_class(), galaxy.waiter_lock_key(3));
select galaxy.waited_image_keys();
select galaxy.release_jobs('d1');
select galaxy.waiter_lock_key(4294967295 + 5), galaxy.waiter_lock_key(2147483648);

-- Scored: returns at once, for the active model and by name.
select pg_temp.score_all('d1');
select predict_galaxy(1), predict_galaxy(2), predict_galaxy(3, model => 'm1');
select id, predict_galaxy(id) from galaxy.images order by id;

-- Details.
select image_id, model, model_active, label, class, probabilities, scored_by, latency_ms, preprocessing
from galaxy.prediction(2);
select image_id, model, label, class from galaxy.prediction_details order by image_id;
select pg_temp.error_of('select * from galaxy.prediction(424242)');

-- Not queued and not scored under another model: hint to CALL galaxy.score.
select galaxy.add_model('m2', '\x03');
select galaxy.model_validated(3, '{}', array['E0', 'Sc']);
select pg_temp.error_of($$select predict_galaxy(1, model => 'm2')$$);

-- Failed scoring: the error is reported.
insert into galaxy.queue (image_id, model_id, max_attempts) values (1, 3, 1);
select job_id from galaxy.claim_jobs('d1', 10, 60);
select galaxy.fail_jobs('d1', array[4::bigint], array['decode image 1: Premature end of JPEG file'], array['truncated_image'],
                        array['Infinity'::float8]);
select pg_temp.error_of($$select predict_galaxy(1, model => 'm2')$$);

-- A job removed while queued (e.g. a cancelled batch) is reported as not queued.
insert into galaxy.queue (image_id, model_id) values (2, 3);
delete from galaxy.queue where image_id = 2 and model_id = 3;
select pg_temp.error_of($$select predict_galaxy(2, model => 'm2')$$);

-- Work hidden by this session's own open transaction fails fast.
begin;
insert into galaxy.images (jpeg) values ('\xffd804');
select pg_temp.error_of('select predict_galaxy(4)');
rollback;
begin;
insert into galaxy.queue (image_id, model_id) values (2, 3);
select pg_temp.error_of($$select predict_galaxy(2, model => 'm2')$$);
rollback;
-- ...also inside a savepoint.
begin;
select 1 as unrelated_write from galaxy.daemons limit 0;
savepoint s;
insert into galaxy.queue (image_id, model_id) values (2, 3);
select pg_temp.error_of($$select predict_galaxy(2, model => 'm2')$$);
rollback;
-- A transaction that wrote other rows does not mistake committed jobs for its own.
insert into galaxy.queue (image_id, model_id) values (2, 3);
begin;
insert into galaxy.daemons (name) values ('other');
set local galaxy.predict_timeout = '10ms';
select pg_temp.error_of($$select predict_galaxy(2, model => 'm2')$$);
rollback;
-- A snapshot transaction cannot see the prediction arrive.
begin isolation level repeatable read;
select pg_temp.error_of($$select predict_galaxy(2, model => 'm2')$$);
rollback;

-- galaxy.score: commits the request, then waits.
call galaxy.score(array[1, 2]);  -- already scored under the active model: nothing to wait for
call galaxy.score(array[2, 424242]);
call galaxy.score('{}');
call galaxy.score(array[3], model => 'm2', timeout => '50ms');
select image_id, model_id, priority from galaxy.queue where image_id = 3 order by id;
-- The request is committed and a low-priority job already queued is moved up instead of duplicated.
update galaxy.queue set priority = 1 where image_id = 3 and model_id = 3;
call galaxy.score(array[3], model => 'm2', timeout => '20ms');
select image_id, model_id, priority from galaxy.queue where image_id = 3 order by id;
select pg_temp.score_all('d1');
call galaxy.score(array[3], model => 'm2');
call galaxy.score(array[3], model => 'm2', rescore => true, timeout => '20ms');
select galaxy.daemon_stopped('d1');
call galaxy.score(array[3], model => 'm2', rescore => true);
-- Inside a transaction block the request cannot commit.
begin;
call galaxy.score(array[3]);
rollback;
