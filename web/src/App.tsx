import { lazy, Suspense, useEffect } from "react";
import { Shell } from "./components/Shell";
import { navigate, useLocation } from "./router";
import { useAuthUser, UserContext } from "./session";

// One chunk per page: the sign-in screen loads only React, the shell and Firebase Auth.
const SignIn = lazy(() => import("./pages/SignIn"));
const LinkBroker = lazy(() => import("./pages/LinkBroker"));
const Drift = lazy(() => import("./pages/Drift"));
const Rebalance = lazy(() => import("./pages/Rebalance"));
const History = lazy(() => import("./pages/History"));
const Schedule = lazy(() => import("./pages/Schedule"));
const Settings = lazy(() => import("./pages/Settings"));
const Alerts = lazy(() => import("./pages/Alerts"));

export const PAGES = [
  { path: "/", title: "Drift", Page: Drift },
  { path: "/rebalance", title: "Rebalance", Page: Rebalance },
  { path: "/history", title: "History", Page: History },
  { path: "/schedule", title: "Schedule & goal", Page: Schedule },
  { path: "/settings", title: "Settings", Page: Settings },
  { path: "/alerts", title: "Alerts", Page: Alerts },
  { path: "/broker", title: "Broker", Page: LinkBroker },
] as const;

function Loading() {
  return (
    <p role="status" className="loading">
      Loading…
    </p>
  );
}

export function App() {
  const user = useAuthUser();
  const { path } = useLocation();
  const page = PAGES.find((p) => p.path === path) ?? PAGES[0];

  useEffect(() => {
    if (user === null && path !== "/signin") navigate("/signin");
    if (user && path === "/signin") navigate("/");
  }, [user, path]);
  useEffect(() => {
    document.title = user ? `${page.title} · Rebalancer` : "Sign in · Rebalancer";
  }, [user, page]);

  if (user === undefined) return <Loading />;
  if (user === null) {
    return (
      <Suspense fallback={<Loading />}>
        <SignIn />
      </Suspense>
    );
  }
  const { Page } = page;
  return (
    <UserContext.Provider value={user}>
      <Shell current={page.path} pages={PAGES}>
        <Suspense fallback={<Loading />}>
          <Page />
        </Suspense>
      </Shell>
    </UserContext.Provider>
  );
}
