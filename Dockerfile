# schemagate operator and migration runner.
# The build stage compiles with the Debian packages scripts/setup.sh lists;
# the runtime stage carries only the shared libraries the binary links.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libcpprest-dev libpqxx-dev libpq-dev libyaml-cpp-dev libssl-dev \
      libcli11-dev nlohmann-json3-dev \
 && rm -rf /var/lib/apt/lists/*
ARG BUILD_JOBS=2
WORKDIR /src
# Only what the top-level CMakeLists.txt builds with tests off, so edits to
# tests, docs or charts keep the compile layer cached.
COPY CMakeLists.txt ./
COPY src/ src/
COPY bench/ bench/
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCHEMAGATE_BUILD_TESTS=OFF \
 && cmake --build /build --target schemagate --parallel "${BUILD_JOBS}" \
 && install -D -s "$(find /build -maxdepth 3 -type f -name schemagate -perm -u+x | head -n1)" /out/usr/local/bin/schemagate

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libcpprest2.10 libpqxx-6.4 libpq5 libyaml-cpp0.7 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 schemagate \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin schemagate
COPY --from=build /out/usr/local/bin/schemagate /usr/local/bin/schemagate
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/schemagate"]
