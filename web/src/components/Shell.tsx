import { signOut } from "firebase/auth";
import type { ReactNode } from "react";
import { auth } from "../firebase";
import { useUser } from "../session";
import { KillSwitchBanner } from "./KillSwitchBanner";
import { Link } from "./Link";

interface Props {
  current: string;
  pages: readonly { path: string; title: string }[];
  children: ReactNode;
}

export function Shell({ current, pages, children }: Props) {
  const user = useUser();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Rebalancer</span>
        <nav aria-label="Main">
          <ul>
            {pages.map((page) => (
              <li key={page.path}>
                <Link href={page.path} aria-current={page.path === current ? "page" : undefined}>
                  {page.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          {user.email}{" "}
          <button type="button" onClick={() => void signOut(auth)}>
            Sign out
          </button>
        </span>
      </header>
      <KillSwitchBanner />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
