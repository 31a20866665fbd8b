// Tests for GalaxyTraining land here.
