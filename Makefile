# The two commands: `make run` and `make test`. Everything else is a step they take.
SHELL := /bin/bash
VENV := .venv

.PHONY: run test setup ffmpeg libreoffice sandbox cjk-fonts pg-client browser test-servers bench-api bench-upload bench-transcode bench-search clean

## Start every service on embedded defaults with a demo district (Ctrl-C stops them all).
run: setup
	$(VENV)/bin/lb dev

## Run the whole suite; legs whose servers are absent are skipped, and say so.
test: setup browser nginx
	$(VENV)/bin/pytest $(PYTEST_ARGS)

setup: ffmpeg libreoffice sandbox cjk-fonts pg-client
	@infra/python-env.sh

ffmpeg:
	@infra/ffmpeg.sh install

# pg_dump and pg_restore for `lb backup` on PostgreSQL.
pg-client:
	@infra/pg-client.sh install


# Office documents become PDF previews with Chinese fonts.
libreoffice:
	@infra/libreoffice.sh install

# bubblewrap: converters run without network, secrets or write access (docs/security.md).
sandbox:
	@infra/sandbox.sh install

# Noto Sans CJK for the PDFs the API prints (pairing semester reports, campaign certificates).
cjk-fonts:
	@infra/cjk-fonts.sh install

# Headless Chromium and hls.js: the playback tests play lessons in a real web player.
browser:
	@infra/browser.sh install

## Start PostgreSQL and Redis on 127.0.0.1 for the scale-out legs of the suite.
test-servers:
	infra/test-servers.sh start

bench-api: setup
	$(VENV)/bin/python bench/api_read.py

# Local disk, and S3 when MinIO is running (infra/minio.sh start) or LB_BENCH_S3_URL names one.
bench-upload: setup
	$(VENV)/bin/python bench/upload.py

bench-transcode: setup
	$(VENV)/bin/python bench/transcode.py

bench-search: setup
	$(VENV)/bin/python bench/search.py

clean:
	rm -rf $(VENV) .pytest_cache

.PHONY: bench-stats
bench-stats: setup
	$(VENV)/bin/python bench/stats.py

# The web console's front-end libraries (Uppy, hls.js, ECharts) from npm, pinned; no build step.
.PHONY: console
console:
	@infra/console.sh install
run: console
test: console

.PHONY: edge edge-stop nginx
# nginx from Debian, for the school edge (infra/edge/) and its tests through a real nginx.
nginx:
	@infra/edge.sh install

## A school edge in front of the local API (`make run`): classrooms play through http://127.0.0.1:58080
## (set a school's edge_url to it). LB_EDGE_UPSTREAM, LB_EDGE_PORT, ...: see infra/edge.sh.
edge:
	infra/edge.sh start

edge-stop:
	infra/edge.sh stop

.PHONY: bench-edge
# Root: network namespaces and tc (bench/weaklink/netns.py).
bench-edge: setup nginx browser
	$(VENV)/bin/python bench/edge.py
