-- Every claim retires the jobs whose lease expired on their last attempt (retire_abandoned_jobs).
-- An index on the expiry of leased jobs lets that look at expired leases only, so its cost follows
-- the leases in flight, not the backlog. It replaces the index on lease_owner, whose one other
-- user (release_jobs, lease_owner = daemon) reads the leased jobs through this one.
drop index galaxy.queue_lease_owner;
create index queue_lease_expiry on galaxy.queue (lease_expires_at) where lease_owner is not null;
