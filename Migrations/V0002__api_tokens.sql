-- Bearer tokens for the HTTP API. Only the SHA-256 of a token is stored: the secret is printed
-- once by `galaxy token create` and cannot be read back.
CREATE TABLE galaxy.api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (name <> '' AND length(name) <= 100),
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    scope        text NOT NULL CHECK (scope IN ('read', 'write')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- One live token per name, so `galaxy token revoke NAME` is unambiguous.
CREATE UNIQUE INDEX api_tokens_live_name ON galaxy.api_tokens (name) WHERE revoked_at IS NULL;

COMMENT ON TABLE galaxy.api_tokens IS
    'HTTP API bearer tokens (hashed); managed with galaxy token create/revoke';
