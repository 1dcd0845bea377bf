import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body stops arriving.
///
/// Hummingbird's `idleTimeout` only covers the time between requests: once a request head has
/// arrived it is disarmed, so a client that declares a 1 GB body and sends 10 bytes would hold
/// its connection (and a task waiting in `collectBody`) forever. This handler arms a timer when a
/// request head arrives, re-arms it on every body part, and disarms it at the end of the request;
/// if the timer fires, the connection is closed and the waiting request fails.
///
/// One instance per connection; it lives on the channel's event loop like every channel handler
/// and is never shared, so it needs no locking.
final class RequestReadTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private var scheduled: Scheduled<Void>?

    /// - Parameter timeout: the longest pause allowed between two parts of one request.
    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head, .body: arm(context)
        case .end: disarm()
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    private func arm(_ context: ChannelHandlerContext) {
        scheduled?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        scheduled = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    private func disarm() {
        scheduled?.cancel()
        scheduled = nil
    }
}
