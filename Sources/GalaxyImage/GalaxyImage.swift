// The GalaxyImage module; its sources land here.
