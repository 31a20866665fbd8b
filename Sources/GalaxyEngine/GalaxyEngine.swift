// The GalaxyEngine module; its sources land here.
