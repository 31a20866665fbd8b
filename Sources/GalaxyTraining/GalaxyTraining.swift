// The GalaxyTraining module; its sources land here.
