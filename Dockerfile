# typedapi: one static binary in a minimal, non-root image.
# The same image runs as an HTTP server (ECS Fargate, Cloud Run, `docker run`)
# and as a Lambda container image: the binary detects AWS_LAMBDA_RUNTIME_API.

# Build stage: a static, stripped binary. It runs on the builder's own
# platform and cross-compiles for the target (TARGETOS/TARGETARCH, set by
# BuildKit for --platform builds), so an arm64 image needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
# Modules first, so a source-only change reuses this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# No lambda.norpc tag here, unlike the Lambda zip bootstrap (cdk/): with it
# the DynamoDB client reads credentials from environment variables only,
# and a container gets them from its platform (ECS task roles, EKS, EC2
# instance roles, web identity) through the SDK's full chain. Lambda still
# runs the image: the binary detects AWS_LAMBDA_RUNTIME_API. -trimpath and
# -s -w make the build reproducible and small.
RUN CGO_ENABLED=0 GOOS="${TARGETOS:-linux}" GOARCH="${TARGETARCH}" \
    go build -trimpath -ldflags="-s -w" -o /out/api ./cmd/api

# Final stage: CA certificates, tzdata and a nonroot user (uid 65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/api /usr/local/bin/api
USER nonroot:nonroot
# Cloud Run sets PORT; elsewhere 8080 is the default the platform targets.
ENV PORT=8080
# Every interface: a container is reached through its network. (The
# binary's own default is 127.0.0.1.) Listening beyond loopback, the server
# refuses to start without TYPEDAPI_AUTH_ISSUER and TYPEDAPI_AUTH_AUDIENCE
# (or an explicit TYPEDAPI_AUTH_MODE): secure by default.
ENV TYPEDAPI_HOST=0.0.0.0
# The per-client rate limit (TYPEDAPI_RATE_LIMIT, TYPEDAPI_RATE_BURST) is set
# by the deployment, not here: it keys clients by IP, which behind a load
# balancer needs TYPEDAPI_TRUSTED_PROXIES for the balancer's range, or every
# client would share the balancer's few addresses. The Fargate stack (cdk/)
# sets all three; on Lambda, API Gateway throttles instead.
EXPOSE 8080
# SIGTERM starts the graceful drain (TYPEDAPI_SHUTDOWN_GRACE, default 15s).
# Give the platform a stop timeout longer than that grace.
STOPSIGNAL SIGTERM
# No shell or curl here: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/api", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/api"]
