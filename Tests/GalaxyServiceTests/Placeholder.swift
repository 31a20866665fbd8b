// Tests for GalaxyService land here.
