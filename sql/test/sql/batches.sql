-- Batch jobs: start (all, unscored, any query), progress, cancel, per-class summary.
\set SHOW_CONTEXT never
set client_min_messages = warning;
truncate galaxy.images, galaxy.models, galaxy.batches, galaxy.daemons, galaxy.failed_jobs,
         galaxy.queue, galaxy.predictions restart identity cascade;
reset client_min_messages;

create function pg_temp.score_all(daemon text, max_jobs integer default 100) returns bigint[]
language plpgsql as $$
declare
    ids bigint[]; labels text[]; classes text[]; probs jsonb[]; lat real[];
begin
    select array_agg(c.job_id order by c.job_id), array_agg(coalesce(i.label, 'Sc') order by c.job_id),
           array_agg(case coalesce(i.label, 'Sc') when 'E0' then 'elliptical' else 'spiral' end order by c.job_id),
           array_agg(jsonb_build_object(coalesce(i.label, 'Sc'), 1.0) order by c.job_id),
           array_agg(1.0::real order by c.job_id)
    into ids, labels, classes, probs, lat
    from galaxy.claim_jobs(daemon, max_jobs, 60) c join galaxy.images i on i.id = c.image_id;
    return galaxy.complete_jobs(daemon, ids, labels, classes, probs, lat, '{}');
end;
$$;

insert into galaxy.images (jpeg, label)
select decode(lpad(to_hex(n), 6, '0'), 'hex'), case when n % 3 = 0 then 'E0' else 'Sc' end
from generate_series(1, 12) n;
delete from galaxy.queue;
select galaxy.add_model('m1', '\x01');
select galaxy.model_validated(1, '{}', array['E0', 'Sc']);
select galaxy.activate_model('m1', rescore => false);
select galaxy.daemon_register('d1', 'h', 1, '1');

-- Arguments are checked.
select galaxy.start_batch(priority => 100);
select galaxy.start_batch(priority => -1);
select galaxy.start_batch(model => 'nope');
select galaxy.start_batch('select id from galaxy.nowhere');
select galaxy.start_batch('this is not sql');
-- The selection is one query: no second statement, no data-modifying WITH.
select galaxy.start_batch('select 1) as s(id)); delete from galaxy.images; select array(select 1 from (select 1');
select galaxy.start_batch('with d as (delete from galaxy.images returning id) select id from d');
select count(*) as images_left from galaxy.images;

-- Any query choosing ids; batch jobs run below interactive work.
select galaxy.start_batch('select id from galaxy.images where id <= 4;') as batch_id;
select id, model, selection, priority, status, total, done, failed, remaining, percent from galaxy.batch_progress;
insert into galaxy.queue (image_id) values (12);
select c.image_id, q.batch_id from galaxy.claim_jobs('d1', 1, 60) c join galaxy.queue q on q.id = c.job_id;
select galaxy.release_jobs('d1');
delete from galaxy.queue where batch_id is null;

-- Progress: two of four done, one failed for good.
select cardinality(pg_temp.score_all('d1', 2)) as scored;
select job_id as failing_job from galaxy.claim_jobs('d1', 1, 60) \gset
update galaxy.queue set max_attempts = 1 where id = :failing_job;
select galaxy.fail_jobs('d1', array[:failing_job::bigint], array['corrupt JPEG'], array['corrupt_image'],
                        array['Infinity'::float8]) = array[:failing_job::bigint]
    as failed_for_good;
select id, status, total, done, failed, remaining, percent, rate_per_second > 0 as has_rate,
       eta is not null as has_eta, finished_at is null as unfinished
from galaxy.batch_progress;

-- The rest finishes the batch; its summary counts images per class.
select cardinality(pg_temp.score_all('d1')) as scored;
select id, status, total, done, failed, remaining, percent, eta is null as no_eta, finished_at is not null as finished
from galaxy.batch_progress;
select * from galaxy.batch_summary(1);
select galaxy.cancel_batch(1);

-- Unscored: only images without a prediction under the model (and not already queued).
select galaxy.start_batch('unscored') as batch_id;
select id, selection, total from galaxy.batch_progress where id = 2;

-- Cancel: unclaimed jobs leave the queue, claimed ones finish and are counted.
select array_agg(job_id) as claimed from galaxy.claim_jobs('d1', 2, 60) \gset
select galaxy.cancel_batch(2);
select count(*) as left_in_queue from galaxy.queue;
select cardinality(galaxy.complete_jobs('d1', :'claimed'::bigint[], array['E0', 'E0'], array['elliptical', 'elliptical'],
                                        array['{"E0": 1}'::jsonb, '{"E0": 1}'], array[1::real, 1], '{}')) as completed;
select id, status, total, done, failed from galaxy.batch_progress where id = 2;
select * from galaxy.batch_summary(2);
select galaxy.cancel_batch(2);
select galaxy.cancel_batch(99);
select * from galaxy.batch_summary(99);

-- All, with a named model; nothing left to do makes an empty batch that is done at once.
select galaxy.add_model('m2', '\x02');
select galaxy.model_validated(2, '{}', array['E0', 'Sc']);
select galaxy.start_batch('all', model => 'm2', priority => 50) as batch_id;
select id, model, priority, status, total from galaxy.batch_progress where id = 3;
select count(*) as jobs, min(priority) as priority from galaxy.queue where model_id = 2;
select cardinality(pg_temp.score_all('d1')) as scored;
select id, status, total, done from galaxy.batch_progress where id = 3;
select galaxy.start_batch('select id from galaxy.images where false', model => 'm2') as batch_id;
select id, status, total, percent from galaxy.batch_progress where id = 4;
