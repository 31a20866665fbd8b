// The store's types (tokens, scopes) are part of this module's vocabulary.
@_exported import GalaxyStore
