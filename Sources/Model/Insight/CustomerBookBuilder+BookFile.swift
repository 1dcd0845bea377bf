extension CustomerBookBuilder {
    /// A builder holding what `file` (a generation's ``BookFile``) adds to a book, except the
    /// customers and activities at the positions skipped (records the journal replaces or
    /// drops); the journal's own records are then added as usual.
    ///
    /// Customers take the slots of their positions, so an activity needs no lookup; the ids are
    /// indexed only if a later record has to find its customer's slot.
    ///
    /// - Throws: ``BookFile/Unreadable`` when the file is truncated, of another version, or
    ///   points outside itself.
    public init(
        bookFile file: [UInt8], skippingCustomers skippedCustomers: Set<Int> = [], skippingActivities skippedActivities: Set<Int> = []
    ) throws(BookFile.Unreadable) {
        self.init()
        let header = try BookFile.Header(file)
        var failure: BookFile.Unreadable?
        file.withUnsafeBytes { raw in
            do throws(BookFile.Unreadable) {
                try read(BookFile.Reader(raw: raw, header: header), skippingCustomers: skippedCustomers, skippingActivities: skippedActivities)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Adds the records of a checked file (see ``init(bookFile:skippingCustomers:skippingActivities:)``).
    private mutating func read(
        _ reader: BookFile.Reader, skippingCustomers skippedCustomers: Set<Int>, skippingActivities skippedActivities: Set<Int>
    ) throws(BookFile.Unreadable) {
        let header = reader.header, raw = reader.raw
        book.customers.reserveCapacity(header.customers)
        slotIDs.reserveCapacity(header.customers)
        slotCustomers.reserveCapacity(header.customers)
        var shared: [UInt32: String] = [:]
        func sharedText(_ ref: UInt32) throws(BookFile.Unreadable) -> String? {
            guard ref != BookFile.noString else { return nil }
            if let known = shared[ref] { return known }
            let text = try reader.string(ref)
            shared[ref] = text
            return text
        }
        for position in 0..<header.customers {
            let base = header.customersStart + position * BookFile.customerSize
            let id = try reader.string(reader.u32(base))
            slotIDs.append(id)
            guard raw[base + 20] == 0, !skippedCustomers.contains(position) else {
                slotCustomers.append(nil)
                continue
            }
            let customer = CustomerBook.Customer(
                id: id, name: try reader.string(reader.u32(base + 4)), territory: try sharedText(reader.u32(base + 8)),
                owner: try sharedText(reader.u32(base + 12)), segment: try sharedText(reader.u32(base + 16)))
            book.customers[id] = customer
            slotCustomers.append(customer)
        }
        slotsIndexed = header.customers == 0
        for position in 0..<header.activities where !skippedActivities.contains(position) {
            let base = header.activitiesStart + position * BookFile.activitySize
            guard let use = BookFile.Use(rawValue: raw[base + 8]) else {
                throw BookFile.Unreadable(description: "book.bin: activity \(position) has an unknown use")
            }
            if use == .none { continue }
            let customerPosition = Int32(bitPattern: reader.u32(base))
            let slot: Int32
            if customerPosition >= 0 {
                guard Int(customerPosition) < header.customers else {
                    throw BookFile.Unreadable(description: "book.bin: activity \(position) points past the customers")
                }
                slot = customerPosition
            } else {
                guard let id = try sharedText(reader.u32(base + 4)) else {
                    throw BookFile.Unreadable(description: "book.bin: activity \(position) names no customer")
                }
                slot = self.slot(ofID: id)
            }
            let on = CalendarDate(dayNumber: Int(Int32(bitPattern: reader.u32(base + 12))))
            switch use {
            case .purchase:
                let margin = raw[base + 9] != 0 ? DecimalText(tenThousandths: Int64(bitPattern: reader.u64(base + 32))) : nil
                let paid = raw[base + 10] != 0 ? CalendarDate(dayNumber: Int(Int32(bitPattern: reader.u32(base + 20)))) : nil
                purchases.append(
                    (slot, on, Money(cents: Int64(bitPattern: reader.u64(base + 24))), margin,
                     CalendarDate(dayNumber: Int(Int32(bitPattern: reader.u32(base + 16)))), paid))
            case .referral:
                referrals.append((slot, on))
            case .rating:
                let score = Int(Int8(bitPattern: raw[base + 11]))
                book.ratings.append(CustomerBook.Rating(customerID: slotIDs[Int(slot)], on: on, score: score))
            case .none:
                break
            }
        }
    }
}

extension BookFile {
    /// How many customers and activities `file` describes; `nil` when it is not a readable
    /// book file.
    public static func counts(of file: [UInt8]) -> (customers: Int, activities: Int)? {
        guard let header = try? Header(file) else { return nil }
        return (header.customers, header.activities)
    }

    /// The counts and section offsets of a file, checked against its size.
    struct Header {
        let customers: Int
        let activities: Int
        let customersStart: Int
        let activitiesStart: Int
        let stringsStart: Int
        let stringBytes: Int

        init(_ file: [UInt8]) throws(Unreadable) {
            guard file.count >= BookFile.headerSize, Array(file[0..<8]) == BookFile.magic else {
                throw Unreadable(description: "book.bin: not a book file")
            }
            func u32(_ offset: Int) -> Int {
                Int(UInt32(file[offset]) | UInt32(file[offset + 1]) << 8 | UInt32(file[offset + 2]) << 16 | UInt32(file[offset + 3]) << 24)
            }
            guard u32(8) == Int(BookFile.version) else { throw Unreadable(description: "book.bin: version \(u32(8)) is not known") }
            customers = u32(12)
            activities = u32(16)
            stringBytes = u32(20)
            customersStart = BookFile.headerSize
            activitiesStart = customersStart + customers * BookFile.customerSize
            stringsStart = activitiesStart + activities * BookFile.activitySize
            guard stringsStart + stringBytes == file.count else {
                throw Unreadable(description: "book.bin: \(file.count) bytes where its header promises \(stringsStart + stringBytes)")
            }
        }
    }

    /// Reads numbers and strings of a file whose header was checked.
    struct Reader {
        let raw: UnsafeRawBufferPointer
        let header: Header

        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }

        /// The string at `ref` (an offset into the strings section).
        func string(_ ref: UInt32) throws(Unreadable) -> String {
            let start = header.stringsStart + Int(ref)
            guard ref != BookFile.noString, Int(ref) + 4 <= header.stringBytes else {
                throw Unreadable(description: "book.bin: a string ref points outside the strings")
            }
            let length = Int(u32(start))
            guard Int(ref) + 4 + length <= header.stringBytes else {
                throw Unreadable(description: "book.bin: a string runs past the end of the file")
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[(start + 4)..<(start + 4 + length)]), as: UTF8.self)
        }
    }
}
