package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/grant/otelmetrics"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
)

// metricsUsage documents -metrics.
const metricsUsage = "serve Prometheus metrics at http://ADDR/metrics, on a listener of their own (HOST:PORT; default off)"

// exporter is the example's metrics: the adapter fed by the Provider, the
// Guard and the store, and the Prometheus handler that shows them.
type exporter struct {
	m       *otelmetrics.Metrics
	handler http.Handler
	close   func(context.Context) error
}

// newExporter makes OpenTelemetry metrics exported in the Prometheus text
// format, with a registry of their own (nothing global).
func newExporter() (*exporter, error) {
	reg := prometheus.NewRegistry()
	pe, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(pe))
	m, err := otelmetrics.New(mp, otelmetrics.Options{})
	if err != nil {
		return nil, err
	}
	return &exporter{m: m, handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), close: mp.Shutdown}, nil
}

// listenMetrics checks -metrics and listens on it: a bad address is a
// usage error (errMetricsFlag), a port that is taken another.
func listenMetrics(addr string) (net.Listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("%w %q: want HOST:PORT, for example 127.0.0.1:9464", errMetricsFlag, addr)
	}
	return net.Listen("tcp", addr)
}

var errMetricsFlag = errors.New("-metrics")

// serveMetrics serves GET /metrics on l until ctx is done.
func serveMetrics(ctx context.Context, l net.Listener, e *exporter, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", e.handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = e.close(shutdown)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		log.Error("example: metrics listener", "err", err)
	}
}

// openMetrics, when -metrics gives an address, listens on it and makes the
// exporter that o.Metrics then names; with none, it does nothing.
func (o *options) openMetrics(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	l, err := listenMetrics(addr)
	if err != nil {
		return nil, err
	}
	if o.Metrics, err = newExporter(); err != nil {
		l.Close()
		return nil, err
	}
	o.MetricsAddr = l.Addr().String()
	return l, nil
}

// metricsExitStatus is the exit status for an error of openMetrics: 2 for a
// bad -metrics value, 1 for an address that cannot be listened on.
func metricsExitStatus(err error) int {
	if errors.Is(err, errMetricsFlag) {
		return 2
	}
	return 1
}

// observer is the store's observer: the adapter's when -metrics is set.
func (o *options) observer() store.Observer {
	if o.Metrics == nil {
		return nil
	}
	return o.Metrics.m.StoreCall
}

// instrument wires the adapter into the Provider's configuration.
func (o *options) instrument(cfg *grant.Config) {
	if o.Metrics != nil {
		cfg.OnEvent = o.Metrics.m.OnEvent
		cfg.ValidationCache.OnLookup = o.Metrics.m.CacheLookup // counts only with -validation-cache
	}
}

// instrumentGuard wires the adapter into the Guard's options.
func (o *options) instrumentGuard(g *middleware.Options) {
	if o.Metrics != nil {
		g.OnValidated, g.OnFailure = o.Metrics.m.OnValidated, o.Metrics.m.OnFailure
	}
}
