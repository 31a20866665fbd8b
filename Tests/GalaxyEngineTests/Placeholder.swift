// Tests for GalaxyEngine land here.
