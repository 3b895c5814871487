# Mufakat hub and CLI in one image. Built where Docker runs:
#   docker compose up --build
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY protocol ./protocol
RUN swift build -c release --static-swift-stdlib --product mufakat \
    && swift build -c release --static-swift-stdlib --product mufakat-hub \
    && mkdir -p /out \
    && cp "$(swift build -c release --show-bin-path)/mufakat" "$(swift build -c release --show-bin-path)/mufakat-hub" /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 zlib1g sqlite3 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/mufakat /out/mufakat-hub /usr/local/bin/
COPY scripts /app/scripts
ENV MUFAKAT_HUB_DATA=/data
EXPOSE 7420
CMD ["mufakat-hub", "serve", "--data", "/data", "--port", "7420"]
