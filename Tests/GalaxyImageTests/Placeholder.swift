// Tests for GalaxyImage land here.
