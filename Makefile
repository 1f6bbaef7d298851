# 客户档案流水线 — 常用命令（详见 README.md）
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := output/demo

.PHONY: install test demo samples template monthly quarterly halfyear annual distribute mail-check bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest

template: install
	$(BIN)/crm template --out output/集团公司客户信息统计表（模板）.xlsx

samples: install
	$(BIN)/crm samples --out input_samples

demo: install
	$(BIN)/crm demo --samples input_samples --out $(DEMO)
	$(BIN)/crm template --out $(DEMO)/集团公司客户信息统计表（模板）.xlsx

# 每月例行：make monthly [PERIOD=2026-10] [INBOX=文件夹] [RECEIVED_AT=2026-10-24T15:30]
monthly: install
	$(BIN)/crm monthly $(if $(PERIOD),--period $(PERIOD)) $(if $(INBOX),--inbox "$(INBOX)") $(if $(RECEIVED_AT),--received-at $(RECEIVED_AT))

# 报告期报表：make quarterly PERIOD=2026-Q3 / make halfyear PERIOD=2026-H1 / make annual PERIOD=2026
quarterly halfyear annual: install
	@test -n "$(PERIOD)" || (echo "请指定报告期，如 make $@ PERIOD=2026-Q3" && exit 2)
	$(BIN)/crm report --period $(PERIOD) --editions

# 邮件分发：make distribute PERIOD=2026-Q3 先演练（写 outbox），确认后 make distribute PERIOD=2026-Q3 SEND=1
distribute: install
	@test -n "$(PERIOD)" || (echo "请指定期间，如 make distribute PERIOD=2026-Q3" && exit 2)
	$(BIN)/crm distribute --period $(PERIOD) $(if $(SEND),--send) $(if $(DATE),--date $(DATE))

mail-check: install
	$(BIN)/crm mail check

bench: install
	$(BIN)/python -m pipeline.dev.bench $(if $(QUICK),--quick)

clean:
	rm -rf output/demo .pytest_cache
