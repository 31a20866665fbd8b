// The GalaxyPostgres module; its sources land here.
