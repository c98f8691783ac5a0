import { useTradingStatus } from "../tradingStatus";

/** Shown when the server said trading is off (the kill-switch or drawdown recovery mode). */
export function KillSwitchBanner() {
  const status = useTradingStatus();
  if (!status.off) return null;
  return (
    <div className="banner banner-danger" role="alert" data-testid="kill-switch-banner">
      <strong>Trading is off.</strong> No order will be placed until an administrator turns
      trading back on. <span className="reason">Server said: {status.reason}</span>
    </div>
  );
}
