-- Scoring bytes from any SQL context: galaxy.classify (a C function of the galaxy library, talking
-- to a daemon's scoring socket) and what predict_galaxy and the insert trigger need of it.
-- Re-runnable: every object is created with CREATE OR REPLACE.

-- The model galaxy.classify scores with, resolved in the caller's snapshot (GZ002/GZ003/GZ004 when
-- it cannot score). Plain SQL over resolve_model: it runs once per statement that classifies.
-- (Dropped first: an earlier form also returned the timeout, and OUT columns cannot change in place.)
drop function if exists galaxy.classify_model(text);
create or replace function galaxy.classify_model(model text, out id bigint, out name text, out sha256 text)
language sql stable security definer
set search_path = pg_catalog, galaxy
as $$
    select m.id, m.name, encode(m.sha256, 'hex') from galaxy.models m where m.id = (galaxy.resolve_model(model)).id
$$;

-- galaxy.predict_timeout in milliseconds, for galaxy.classify (which reads it again only when the
-- setting's text changed).
create or replace function galaxy.predict_timeout_ms() returns integer
language sql stable
as $$ select greatest(1, least(2147483647, ceil(extract(epoch from galaxy.predict_timeout()) * 1000)))::integer $$;

-- What the stand-ins of galaxy.classify and galaxy.classify_many raise without the library.
create or replace function galaxy.raise_library_missing() returns void
language plpgsql volatile
as $$
begin
    raise exception 'galaxy.classify needs the galaxy library, which is not installed on this server'
        using errcode = 'GZ018',
              hint = 'On the database server: make -C sql install (PostgreSQL server headers and a C compiler), then galaxy migrate as a superuser. Without it, score through the queue: predict_galaxy(id) after COMMIT.';
end;
$$;

-- Creates galaxy.classify and galaxy.classify_many from the galaxy library when it is installed (make -C sql install), or
-- a stand-in that says how to install it. Returns which; galaxy migrate calls it on every run, so
-- installing the library later and migrating again is enough.
-- (library names another file only in tests of the fallback.)
-- (An earlier form took no argument: drop it, or the call below would be ambiguous.)
drop function if exists galaxy.install_native_functions();
create or replace function galaxy.install_native_functions(library text default '$libdir/galaxy') returns text
language plpgsql volatile
set search_path = pg_catalog, galaxy
as $$
begin
    begin
        execute format($create$
            create or replace function galaxy.classify(jpeg bytea, model text default null)
                returns galaxy.classification
                as %1$L, 'galaxy_classify'
                language c volatile parallel restricted;
            create or replace function galaxy.classify_many(jpegs bytea[], model text default null)
                returns setof galaxy.classification
                as %1$L, 'galaxy_classify_many'
                language c volatile parallel restricted rows 64
            $create$, library);
        perform galaxy.apply_grants();
        return 'galaxy.classify: native (the galaxy library is installed)';
    exception
        when undefined_file or undefined_function or insufficient_privilege then
            if sqlstate = '42501' and galaxy.classify_available() then
                -- Created by a superuser earlier: keep it.
                return 'galaxy.classify: native (kept: only a superuser can create or replace C functions)';
            end if;
            create or replace function galaxy.classify(jpeg bytea, model text default null)
                returns galaxy.classification
                language plpgsql volatile
                set search_path = pg_catalog, galaxy
                as $stand_in$ begin perform galaxy.raise_library_missing(); return null; end $stand_in$;
            create or replace function galaxy.classify_many(jpegs bytea[], model text default null)
                returns setof galaxy.classification
                language plpgsql volatile
                set search_path = pg_catalog, galaxy
                as $stand_in$ begin perform galaxy.raise_library_missing(); end $stand_in$;
            perform galaxy.apply_grants();
            return format('galaxy.classify: not available (%s); make -C sql install on the server, then galaxy migrate as a superuser',
                          sqlerrm);
    end;
end;
$$;

-- Whether galaxy.classify is the library's function rather than the stand-in.
create or replace function galaxy.classify_available() returns boolean
language sql stable
set search_path = pg_catalog, galaxy
as $$
    select exists (select 1 from pg_proc p join pg_language l on l.oid = p.prolang
                   where p.oid = to_regprocedure('galaxy.classify(bytea, text)') and l.lanname = 'c')
$$;

-- Whether predict_galaxy may score through galaxy.classify: the library is installed and
-- galaxy.scoring_socket names a daemon's socket. Otherwise it keeps to the queue and says so.
create or replace function galaxy.classify_configured() returns boolean
language sql stable
set search_path = pg_catalog, galaxy
as $$
    select coalesce(current_setting('galaxy.scoring_socket', true), '') <> '' and galaxy.classify_available()
$$;

-- galaxy.score_on_insert: 'queue' (the default: inserted images are queued for the daemons) or
-- 'sync' (galaxy.classify scores them inside the inserting transaction).
create or replace function galaxy.score_on_insert() returns text
language plpgsql stable
set search_path = pg_catalog, galaxy
as $$
declare
    mode text := coalesce(nullif(current_setting('galaxy.score_on_insert', true), ''), 'queue');
begin
    if mode not in ('queue', 'sync') then
        raise exception 'galaxy.score_on_insert is ''%'', expected queue or sync', mode
            using errcode = 'GZ016', hint = 'SET galaxy.score_on_insert = ''sync'' (or ''queue'', the default).';
    end if;
    return mode;
end;
$$;

-- Scores each new image with galaxy.classify and writes its prediction in the same transaction
-- (a rollback leaves none). A failure raises and so refuses the insert.
create or replace function galaxy.score_inserted_images(image_ids bigint[]) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, galaxy
as $$
declare
    image record;
    r galaxy.classification;
begin
    for image in select i.id, i.jpeg, i.jpeg_sha256 from galaxy.images i where i.id = any(image_ids) order by i.id loop
        begin
            r := galaxy.classify(image.jpeg);
        exception when others then
            raise exception 'galaxy.score_on_insert = sync: image % could not be scored: %', image.id, sqlerrm
                using errcode = sqlstate,
                      hint = 'The insert is refused. Fix the image, or SET galaxy.score_on_insert = queue to queue it for the daemons.';
        end;
        insert into galaxy.predictions as p (image_id, model_id, label, class, probabilities, scored_at,
                                             model_sha256, image_sha256, preprocessing, latency_ms, scored_by,
                                             precision)
        values (image.id, r.model_id, r.label, r.class, r.probabilities, clock_timestamp(),
                decode(r.model_sha256, 'hex'), image.jpeg_sha256, r.preprocessing, r.latency_ms, 'galaxy.classify',
                coalesce((select m.metadata->>'precision' from galaxy.models m where m.id = r.model_id), 'fp32'))
        on conflict (image_id, model_id) do update
        set label = excluded.label, class = excluded.class, probabilities = excluded.probabilities,
            scored_at = excluded.scored_at, model_sha256 = excluded.model_sha256, image_sha256 = excluded.image_sha256,
            preprocessing = excluded.preprocessing, latency_ms = excluded.latency_ms, scored_by = excluded.scored_by,
            batch_id = null, precision = excluded.precision;
    end loop;
end;
$$;

select galaxy.install_native_functions();

-- Grants for what this file created or replaced (see R__0000_roles.sql).
select galaxy.apply_grants();
