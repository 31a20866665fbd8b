/// How to read a training catalog (`DIR/catalog.csv`): which columns hold the id, the label, the
/// image file and the vote fractions. Column names are matched ignoring case.
public struct CatalogOptions: Sendable, Hashable, Codable {
    /// The catalog's file name inside the data directory.
    public var catalogFile = "catalog.csv"
    /// The column with the image's id; when absent or empty, the image file's name without its
    /// extension is the id.
    public var idColumn = "id"
    /// The column with the label text (a label, a class or a set `Sa|Sb`): `--label-column`, e.g.
    /// `gz1_name` to train on a Galaxy Zoo 1 catalog as it is.
    public var labelColumn = "label"
    /// Columns named `<prefix><label>` (`p_Er`, `p_Sb`) hold vote fractions for that label; an
    /// empty prefix reads none.
    public var probabilityPrefix = "p_"
    /// Columns that may name the image file (the first present is used), relative to the data
    /// directory or absolute; else the image is `images/<id>.jpg`.
    public var fileColumns = ["file", "file_name", "path"]

    public init(labelColumn: String = "label", probabilityPrefix: String = "p_") {
        self.labelColumn = labelColumn
        self.probabilityPrefix = probabilityPrefix
    }
}
