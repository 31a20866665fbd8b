// The GalaxyTestSupport module; its sources land here.
