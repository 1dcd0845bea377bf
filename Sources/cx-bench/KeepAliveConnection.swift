import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection that posts a request and waits for its answer, one at a
/// time, as one `cx sync` does — the simulated client of `cx-bench concurrent`.
///
/// The benchmark's 200 clients run on the same two cores as the server they measure, so their
/// own CPU is CPU the server lacks: through AsyncHTTPClient (its connection pool, request state
/// machines and a deadline per request) they took about a tenth of the machine, and this
/// connection — NIO's HTTP codec and a promise per request — a fraction of that
/// (docs/benchmarks.md, session 21). Laptops run the real clients, on CPUs of their own.
final class KeepAliveConnection: Sendable {
    private let channel: any Channel
    private let host: String
    private let path: String

    private init(channel: any Channel, host: String, path: String) {
        self.channel = channel
        self.host = host
        self.path = path
    }

    /// Opens a connection to `host:port` for requests to `path`.
    static func connect(host: String, port: Int, path: String) async throws -> KeepAliveConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler())
                }
            }
            .connect(host: host, port: port)
            .get()
        return KeepAliveConnection(channel: channel, host: host, path: path)
    }

    /// Posts `body` as JSON with `token` and returns the answer's status and body.
    func post(_ body: ByteBuffer, token: String) async throws -> (status: HTTPResponseStatus, body: ByteBuffer) {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Authorization", value: "Bearer \(token)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        let answer = channel.eventLoop.makePromise(of: Answer.self)
        channel.writeAndFlush(Exchange(head: head, body: body, answer: answer), promise: nil)
        let (status, reply) = try await answer.futureResult.get()
        return (status, reply)
    }

    /// Closes the connection.
    func close() async {
        try? await channel.close()
    }

    typealias Answer = (HTTPResponseStatus, ByteBuffer)

    /// A request and the promise of its answer, as written into the pipeline.
    struct Exchange: Sendable {
        let head: HTTPRequestHead
        let body: ByteBuffer
        let answer: EventLoopPromise<Answer>
    }

    /// Sends each ``Exchange``'s request and completes its promise with the answer; answers come
    /// in request order (HTTP/1.1), and a closed or failed connection fails every one waiting.
    private final class ExchangeHandler: ChannelDuplexHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundIn = Exchange
        typealias OutboundOut = HTTPClientRequestPart

        private var waiting = CircularBuffer<EventLoopPromise<Answer>>()
        private var status = HTTPResponseStatus.ok
        private var body = ByteBuffer()

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let exchange = unwrapOutboundIn(data)
            waiting.append(exchange.answer)
            context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil)
            context.write(wrapOutboundOut(.end(nil)), promise: promise)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                status = head.status
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let answer = waiting.popFirst() else { return }
                answer.succeed((status, body))
                body = ByteBuffer()
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            failWaiting(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            failWaiting(ChannelError.ioOnClosedChannel)
            context.fireChannelInactive()
        }

        private func failWaiting(_ error: any Error) {
            while let answer = waiting.popFirst() { answer.fail(error) }
        }
    }
}
