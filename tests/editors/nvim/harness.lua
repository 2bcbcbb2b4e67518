-- What the Neovim drivers share: the JSON report written to $CLEARSIGHT_OUT, the server's
-- publishes counted (wait on the count, not on diagnostics being there: a clean file has
-- none), and the server's messages. Load with dofile from the driver's folder.
local harness = {}

harness.python = os.getenv("CLEARSIGHT_PYTHON") or "python3"
harness.timeout = tonumber(os.getenv("CLEARSIGHT_TIMEOUT") or "30000")
harness.report = { steps = {}, messages = {} }
local out = assert(os.getenv("CLEARSIGHT_OUT"), "set CLEARSIGHT_OUT")

-- Write the report and leave: exit 0 (`qa!`) when the driver ran to its end, 1 otherwise.
function harness.finish(ok, message)
  harness.report.ok = ok
  harness.report.message = message
  local file = assert(io.open(out, "w"))
  file:write(vim.fn.json_encode(harness.report))
  file:close()
  if ok then
    vim.cmd("qa!")
  else
    vim.cmd("cquit! 1")
  end
end

-- Every publish for the buffer, raw (the LSP diagnostics, codes and data included).
local publishes = 0
local last_published = {}
local default_publish = vim.lsp.handlers["textDocument/publishDiagnostics"]
vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
  publishes = publishes + 1
  last_published = result.diagnostics
  return default_publish(err, result, ctx, config)
end
for _, method in ipairs({ "window/showMessage", "window/logMessage" }) do
  vim.lsp.handlers[method] = function(_, result)
    table.insert(harness.report.messages, result.message)
  end
end

function harness.publishes()
  return publishes
end

function harness.last()
  return last_published
end

function harness.summary(diagnostics)
  local rows = {}
  for _, d in ipairs(diagnostics) do
    table.insert(rows, { code = d.code, line = d.range.start.line + 1, message = d.message })
  end
  return rows
end

function harness.has_code(diagnostics, code)
  for _, d in ipairs(diagnostics) do
    if d.code == code then
      return d
    end
  end
  return nil
end

-- Wait for a publish after `seen` that satisfies `predicate` (false, and the report
-- written, when it does not come).
function harness.wait_publish(seen, predicate, what)
  local ok = vim.wait(harness.timeout, function()
    return publishes > seen and predicate(last_published)
  end, 20)
  if not ok then
    harness.finish(false, "timed out waiting for " .. what .. "; last: "
      .. vim.fn.json_encode(harness.summary(last_published)))
  end
  return ok
end

-- Run `body` once Neovim has started; a Lua error ends the run with it in the report.
function harness.run(body)
  vim.schedule(function()
    local ok, error = pcall(body)
    if not ok then
      harness.finish(false, "driver error: " .. tostring(error))
    end
  end)
end

return harness
