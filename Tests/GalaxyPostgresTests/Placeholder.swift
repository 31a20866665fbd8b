// Tests for GalaxyPostgres land here.
