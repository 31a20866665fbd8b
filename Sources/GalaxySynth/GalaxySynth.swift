// The GalaxySynth module; its sources land here.
