-- wrk body for load-tests/wrk/gateway.sh: one chat turn as a client resends it.
-- 4 KB chat body: repeated system prompt + history, new user text each request
local sys = string.rep("You are a careful assistant for the finance team. Answer briefly and cite the policy section. ", 12)
local hist = string.rep("Earlier we discussed the quarterly plan and the vendor review schedule. ", 14)
local words = {"alpha","budget","review","vendor","plan","quarter","schedule","report","draft","summary","meeting","notes"}
local n = 0
local new_bytes = tonumber(os.getenv("NEW_BYTES") or "1024")
request = function()
  n = n + 1
  local t = {}
  local len = 0
  local i = n
  while len < new_bytes do
    i = (i * 1103515245 + 12345) % 2147483648
    local w = words[(i % #words) + 1]
    t[#t+1] = w
    len = len + #w + 1
  end
  local user = "Request " .. n .. ": " .. table.concat(t, " ")
  local body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"' .. sys .. '"},{"role":"user","content":"' .. hist .. '"},{"role":"assistant","content":"' .. hist .. '"},{"role":"user","content":"' .. user .. '"}]}'
  return wrk.format("POST", "/openai/v1/chat/completions", {["Content-Type"]="application/json", ["Authorization"]="Bearer sk-test"}, body)
end
