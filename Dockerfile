# deltashare container image: a static binary on a distroless base (CA certificates, a non-root
# user, no shell). Build it with `make image` (docker or podman), or:
#   docker build --build-arg VERSION=$(git describe --tags --always) -t deltashare .

# Build stage: the Go toolchain of go.mod's go line. Modules are downloaded in their own layer,
# so a source change does not download them again.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: a static binary that needs no C library in the final image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/deltashare ./cmd/deltashare

# Final stage: CA certificates (for HTTPS to sharing servers and object stores), /tmp, and the
# user nonroot (uid 65532, home /home/nonroot, where the credential store goes by default).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/deltashare /usr/local/bin/deltashare
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/deltashare"]
CMD ["--help"]
