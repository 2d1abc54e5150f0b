# lakehunt — see README.md.
GO        ?= go
BIN       := bin/lakehunt
CACHE     := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
TOOLS     := $(CACHE)/lakehunt-tools/bin
VERSITYGW := $(TOOLS)/versitygw
VERSITYGW_VERSION := v1.8.0
DEMO      ?= demo
GIT_REV   := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS   := -X main.version=0.1.0 -X main.gitRevision=$(GIT_REV)

.PHONY: all build tools test fuzz demo bench lint clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lakehunt

# The S3-compatible server the tests run on loopback, built once from the Go module proxy into a cache.
tools: $(VERSITYGW)
$(VERSITYGW):
	GOBIN=$(TOOLS) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

test: tools build
	$(GO) vet ./...
	LAKEHUNT_VERSITYGW=$(VERSITYGW) $(GO) test -count=1 -timeout 30m ./...
	$(BIN) hunt lint
	$(BIN) hunt test

# Every fuzz target for FUZZTIME each (CI: 10s each, about 2 minutes); FUZZTIME=5m make fuzz to dig deeper.
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# The whole pipeline on generated data: no AWS account, a local lake under ./demo.
demo: build
	rm -rf $(DEMO)
	$(BIN) gen --out $(DEMO)/raw --scale small --seed 1 --start 2025-06-02 --days 14
	$(BIN) compact --from $(DEMO)/raw --lake $(DEMO)/lake --settle 0 --source-prefix hids=hids/
	$(BIN) query --lake $(DEMO)/lake "SELECT event_name, count(*) AS events FROM cloudtrail GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
	$(BIN) query --lake $(DEMO)/lake "SELECT action, flow_direction, count(*) AS flows, sum(bytes) AS bytes FROM vpc_flow GROUP BY ALL ORDER BY 3 DESC"
	$(BIN) query --lake $(DEMO)/lake "SELECT rtrim(query_name, '.') AS name, count(*) AS queries FROM route53_resolver GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
	$(BIN) query --lake $(DEMO)/lake "SELECT 'waf' AS source, action AS kind, count(*) AS records FROM waf GROUP BY ALL UNION ALL SELECT 'alb', elb_status_code::VARCHAR, count(*) FROM alb GROUP BY ALL UNION ALL SELECT 'guardduty', severity_label, count(*) FROM guardduty_latest GROUP BY ALL UNION ALL SELECT 'securityhub', product_name || ' ' || severity_label, count(*) FROM securityhub_latest GROUP BY ALL UNION ALL SELECT 'hids', 'level ' || rule_level, count(*) FROM hids GROUP BY ALL ORDER BY 1, 3 DESC"
	$(BIN) ti import --lake $(DEMO)/lake --feed feodo --now 2025-06-17 $(DEMO)/raw/ti/feodo-2025-06-16.csv
	$(BIN) ti import --lake $(DEMO)/lake --feed blocklist --now 2025-06-17 $(DEMO)/raw/ti/ip-blocklist-2025-06-16.txt
	$(BIN) ti import --lake $(DEMO)/lake --feed c2-domains --now 2025-06-17 $(DEMO)/raw/ti/domains-2025-06-16.txt
	$(BIN) hunt run --lake $(DEMO)/lake --from 2025-06-09 --to 2025-06-16 --out $(DEMO)/run
	-command -v python3 >/dev/null && python3 scripts/detection.py $(DEMO)/raw/ground-truth.json $(DEMO)/run/findings.jsonl 7
	@echo "report: $(abspath $(DEMO)/run/report.html)"
	@echo "entity page (the top finding group's): $$(ls -tr $(abspath $(DEMO)/run/entities)/*.html | head -n 1)"

bench: build
	./scripts/bench.sh

clean:
	rm -rf bin $(DEMO)
