// The GalaxyService module; its sources land here.
