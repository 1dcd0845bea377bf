/// Net Promoter Score from touchpoint ratings in a period: promoters (9–10) minus detractors
/// (0–6), as a percentage of responses.
public struct NetPromoterScore: Hashable, Sendable {
    /// Ratings counted.
    public let responses: Int
    /// Ratings of 9 or 10.
    public let promoters: Int
    /// Ratings of 0 to 6.
    public let detractors: Int

    /// The score in tenths of a point, rounded half away from zero (e.g. 333 = 33.3); `nil`
    /// without responses.
    public var scoreTenths: Int? {
        guard responses > 0 else { return nil }
        return Int(ScaledDecimal.divideRounded(Int64(promoters - detractors) * 1000, Int64(responses)))
    }

    /// The score as text with one decimal (`33.3`), or `nil` without responses.
    public var scoreText: String? {
        guard let tenths = scoreTenths else { return nil }
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    init(scores: [Int]) {
        responses = scores.count
        promoters = scores.filter { $0 >= 9 }.count
        detractors = scores.filter { $0 <= 6 }.count
    }

    /// The overall score and the score per customer territory (customers without a territory
    /// under the empty string) for ratings given in [start, end).
    public static func compute(
        book: CustomerBook, start: CalendarDate, end: CalendarDate
    ) -> (overall: NetPromoterScore, byTerritory: [String: NetPromoterScore]) {
        var all: [Int] = []
        var byTerritory: [String: [Int]] = [:]
        for rating in book.ratings where rating.on >= start && rating.on < end {
            guard let customer = book.customers[rating.customerID] else { continue }
            all.append(rating.score)
            byTerritory[customer.territory ?? "", default: []].append(rating.score)
        }
        return (NetPromoterScore(scores: all), byTerritory.mapValues(NetPromoterScore.init(scores:)))
    }
}
