-- galaxy.classify without a daemon: configuration, refusals before the socket, privileges, and
-- predict_galaxy falling back to it. (ScoringSocketTests covers scoring through a live socket.)
\set SHOW_CONTEXT never
\set VERBOSITY terse
set client_min_messages = warning;
truncate galaxy.images, galaxy.models, galaxy.batches, galaxy.daemons, galaxy.failed_jobs,
         galaxy.queue, galaxy.predictions restart identity cascade;
reset client_min_messages;

-- Without the library, stand-ins say how to install it; with it, the C functions come back.
select galaxy.install_native_functions('$libdir/galaxy_not_installed');
select galaxy.classify_available();
select galaxy.classify('\xffd8ffe0'::bytea);
select * from galaxy.classify_many(array['\xffd8ffe0'::bytea]);
select galaxy.install_native_functions();
select galaxy.classify_available(), galaxy.classify_configured();

-- No model yet: the caller's model error comes first.
select galaxy.classify('\xffd8ffe0'::bytea);
select galaxy.add_model('m1', '\x01');
select galaxy.model_validated(1, '{}', array['Er']);
select galaxy.activate_model('m1', rescore => false);

-- Refused before anything crosses a socket.
select galaxy.classify('\x89504e47'::bytea);
select galaxy.classify(''::bytea);
select galaxy.classify(null) is null as null_image_has_no_class;
select * from galaxy.classify_many(array['\xffd8ffe0'::bytea, '\x00'::bytea]);
select count(*) from galaxy.classify_many(array[]::bytea[]);
select count(*) from galaxy.classify_many(null);
select count(*) from galaxy.classify_many(array_fill(null::bytea, array[1025]));
select galaxy.classify('\xffd8ffe0'::bytea);
set galaxy.predict_timeout = 'soon';
select galaxy.classify('\xffd8ffe0'::bytea);
reset galaxy.predict_timeout;
set galaxy.classify_max_bytes = 4;
select galaxy.classify('\xffd8ffe000'::bytea);
reset galaxy.classify_max_bytes;

-- A socket path no daemon serves: GZ007 with a hint, within the timeout.
set galaxy.scoring_socket = '/nonexistent/galaxy-scoring.sock';
select galaxy.classify_configured();
select galaxy.classify('\xffd8ffe0'::bytea);
select galaxy.classify('\xffd8ffe0'::bytea, 'nope');

-- predict_galaxy on an image of the open transaction now asks galaxy.classify.
begin;
insert into galaxy.images (jpeg) values ('\xffd8ffe0');
select predict_galaxy(1);
rollback;
-- Without galaxy.scoring_socket it keeps to the queue and says how to score.
reset galaxy.scoring_socket;
begin;
insert into galaxy.images (jpeg) values ('\xffd8ffe0');
select predict_galaxy(2);
rollback;

-- Synchronous scoring on insert needs the daemon too: the insert is refused.
set galaxy.score_on_insert = sync;
insert into galaxy.images (jpeg) values ('\xffd8ffe0');
set galaxy.score_on_insert = soon;
insert into galaxy.images (jpeg) values ('\xffd8ffe0');
reset galaxy.score_on_insert;
select count(*) as images from galaxy.images;

-- Only analysts (and model admins) may call it; only a superuser may point it elsewhere.
set role galaxy_daemon;
select galaxy.classify('\xffd8ffe0'::bytea);
reset role;
set role galaxy_analyst;
select galaxy.classify('\x00'::bytea);
set galaxy.scoring_socket = '/tmp/elsewhere.sock';
reset role;
