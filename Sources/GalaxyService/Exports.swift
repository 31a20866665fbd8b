// GalaxyStore is the service's vocabulary too: its callers see jobs, models and batches by importing this module.
@_exported import GalaxyStore
