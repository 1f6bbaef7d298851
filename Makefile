# 客户档案流水线 — 常用命令（详见 README.md）
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := output/demo

.PHONY: install test demo samples template monthly bench clean

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
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/crm template --out $(DEMO)/集团公司客户信息统计表（模板）.xlsx
	-$(BIN)/crm validate input_samples --feedback-dir $(DEMO)/反馈 > $(DEMO)/校验结果.txt
	tail -n 3 $(DEMO)/校验结果.txt
	@echo "模板、校验结果与反馈工作簿已写入 $(DEMO)/"

clean:
	rm -rf output/demo .pytest_cache
