-- tf2kro: health of a kro ResourceGraphDefinition (kro.run/v1alpha1).
-- Healthy     status.state Active and condition Ready=True
-- Degraded    status.state Inactive (the graph was not accepted: see the GraphAccepted condition)
-- Progressing otherwise (no status yet)
local hs = {status = "Progressing", message = "waiting for kro to accept the graph"}
if obj.status == nil then
  return hs
end
local ready = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then ready = c end
    if c.type == "GraphAccepted" and c.status == "False" then
      hs.status = "Degraded"
      hs.message = "GraphAccepted=False: " .. tostring(c.message or c.reason or "")
      return hs
    end
  end
end
if obj.status.state == "Inactive" then
  hs.status = "Degraded"
  hs.message = "Inactive"
  return hs
end
if obj.status.state == "Active" and (ready == nil or ready.status == "True") then
  hs.status = "Healthy"
  hs.message = "Active"
  return hs
end
return hs
