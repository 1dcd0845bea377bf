/// The text form of a PostgreSQL array, for binding a list of strings as one parameter
/// (`$1::text[]`).
///
/// Every element is double-quoted with `"` and `\` escaped, so commas, braces, quotes,
/// `NULL` and whitespace in values stay part of the values.
public enum PostgresArrayLiteral {
    /// `{"a","b\"c"}` for `["a", "b\"c"]`; `{}` for none.
    public static func text(_ values: some Sequence<String>) -> String {
        var result = "{"
        var first = true
        for value in values {
            if !first { result += "," }
            first = false
            result += "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { result += "\\" }
                result.unicodeScalars.append(character)
            }
            result += "\""
        }
        return result + "}"
    }
}
