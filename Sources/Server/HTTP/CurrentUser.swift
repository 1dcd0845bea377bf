import Hummingbird

/// `GET /v1/me`: who the bearer token belongs to, `{"role":…,"user":…}`.
struct CurrentUser: ResponseEncodable, Equatable {
    var user: String
    var role: String
}
