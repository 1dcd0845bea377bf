/// Reads CSV (RFC 4180) from UTF-8 bytes, one record at a time, with the physical line each
/// record starts on — the line numbers `cx-server import` names in its errors, counted as
/// `cx import` counts them (the header is line 1; a quoted cell holding newlines spans lines).
///
/// Cells are separated by commas; a cell in double quotes may hold commas, newlines and
/// doubled quotes (`""`). Lines end with LF or CRLF. A UTF-8 byte order mark is skipped. A
/// quote inside an unquoted cell is taken literally, as spreadsheets write it.
///
/// Works on bytes, without Foundation: a million-row export is read in about a second.
struct CSVRecordReader {
    /// A problem that stops reading: the file is not UTF-8, or a quoted cell never ends.
    struct Failure: Error, Sendable, Equatable {
        let line: Int
        let message: String
    }

    private let bytes: [UInt8]
    private var offset: Int
    private var line = 1

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// Whether every byte has been read.
    var isAtEnd: Bool { offset >= bytes.count }

    /// How far reading has come, 0…1 (for a progress bar).
    var fractionRead: Double { bytes.isEmpty ? 1 : Double(offset) / Double(bytes.count) }

    /// The next record and the line it starts on, or `nil` at the end of the input.
    mutating func next() throws(Failure) -> (line: Int, cells: [String])? {
        guard offset < bytes.count else { return nil }
        let startLine = line
        var cells: [String] = []
        let count = bytes.count
        var result: Result<Void, Failure> = .success(())
        bytes.withUnsafeBufferPointer { buffer in
            var position = offset
            var quoted: [UInt8] = []
            // A comma, LF or CRLF at `p` ends the cell (a lone CR is data).
            func endsCell(_ p: Int) -> Bool {
                let byte = buffer[p]
                return byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\n")
                    || (byte == UInt8(ascii: "\r") && p + 1 < count && buffer[p + 1] == UInt8(ascii: "\n"))
            }
            cellLoop: while true {
                // One cell, starting at `position`.
                if position < count, buffer[position] == UInt8(ascii: "\"") {
                    quoted.removeAll(keepingCapacity: true)
                    position += 1
                    var closed = false
                    while position < count {
                        let byte = buffer[position]
                        if byte == UInt8(ascii: "\"") {
                            if position + 1 < count, buffer[position + 1] == UInt8(ascii: "\"") {
                                quoted.append(byte)
                                position += 2
                                continue
                            }
                            position += 1
                            closed = true
                            break
                        }
                        if byte == UInt8(ascii: "\n") { line += 1 }
                        quoted.append(byte)
                        position += 1
                    }
                    guard closed else {
                        result = .failure(Failure(line: startLine, message: "a quoted cell that starts here is never closed (a missing '\"')"))
                        return
                    }
                    // Anything after the closing quote up to the separator belongs to the cell.
                    let tail = position
                    while position < count, !endsCell(position) { position += 1 }
                    if position > tail { quoted.append(contentsOf: buffer[tail..<position]) }
                    guard let cell = String(validating: quoted, as: UTF8.self) else {
                        result = .failure(Failure(line: startLine, message: "the file is not UTF-8 text (save it as UTF-8 CSV)"))
                        return
                    }
                    cells.append(cell)
                } else {
                    let start = position
                    while position < count, !endsCell(position) { position += 1 }
                    guard let cell = String(validating: UnsafeBufferPointer(rebasing: buffer[start..<position]), as: UTF8.self) else {
                        result = .failure(Failure(line: startLine, message: "the file is not UTF-8 text (save it as UTF-8 CSV)"))
                        return
                    }
                    cells.append(cell)
                }
                // The separator after the cell.
                if position >= count { break cellLoop }
                switch buffer[position] {
                case UInt8(ascii: ","):
                    position += 1
                case UInt8(ascii: "\r"):
                    position += 2
                    line += 1
                    break cellLoop
                default:
                    position += 1
                    line += 1
                    break cellLoop
                }
            }
            offset = position
        }
        try result.get()
        return (startLine, cells)
    }
}
