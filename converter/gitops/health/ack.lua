-- tf2kro: health of an ACK resource (services.k8s.aws). Data file shipped in the wheel (converter/gitops/health).
-- Degraded   ACK.Terminal=True (the controller gave up: fix the spec or the AWS side)
-- Healthy    ACK.ResourceSynced=True and, for an object with adoption-policy adopt, annotated adopted "true"
-- Progressing otherwise (no status yet, adopting, not synced yet, ACK.Recoverable)
local hs = {status = "Progressing", message = "waiting for the ACK controller to reconcile"}
local function text(c)
  local m = c.message or c.reason or ""
  if type(m) ~= "string" then m = tostring(m) end
  return m
end
if obj.status == nil or obj.status.conditions == nil then
  hs.message = "no status yet: the ACK controller has not reconciled this object"
  return hs
end
local synced, terminal, recoverable = nil, nil, nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "ACK.Terminal" and c.status == "True" then terminal = text(c) end
  if c.type == "ACK.Recoverable" and c.status == "True" then recoverable = text(c) end
  if c.type == "ACK.ResourceSynced" then synced = c end
end
if terminal ~= nil then
  hs.status = "Degraded"
  hs.message = "ACK.Terminal: " .. terminal
  return hs
end
local ann = {}
if obj.metadata ~= nil and obj.metadata.annotations ~= nil then ann = obj.metadata.annotations end
if ann["services.k8s.aws/adoption-policy"] == "adopt" and ann["services.k8s.aws/adopted"] ~= "true" then
  hs.message = "adopting: not annotated services.k8s.aws/adopted yet"
  return hs
end
if synced ~= nil and synced.status == "True" then
  hs.status = "Healthy"
  hs.message = "ACK.ResourceSynced=True"
  return hs
end
if recoverable ~= nil then
  hs.message = "ACK.Recoverable: " .. recoverable
elseif synced ~= nil then
  hs.message = "ACK.ResourceSynced=" .. tostring(synced.status) .. ": " .. text(synced)
end
return hs
