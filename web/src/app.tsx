import { useEffect, useRef } from 'react';
import { Link, Route, Switch, useLocation, useRoute } from 'wouter';
import { AdminPage } from './pages/admin-page';
import { BrowsePage } from './pages/browse-page';
import { ForYouPage } from './pages/for-you-page';
import { MoviePage } from './pages/movie-page';
import { UploadPage } from './pages/upload-page';
import { useTaste } from './taste/taste';

function NavLink({ href, children }: { href: string; children: React.ReactNode }) {
  const [active] = useRoute(href);
  return (
    <Link href={href} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

/** After a navigation, keyboard and screen-reader users land at the top of the new page, not on the old link. */
function useFocusOnNavigate() {
  const [location] = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [location]);
}

export function App() {
  const { liked } = useTaste();
  useFocusOnNavigate();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link href="/" className="brand">
          Marquee
        </Link>
        <nav aria-label="Main">
          <NavLink href="/">Posters</NavLink>
          <NavLink href="/for-you">For you{liked.length > 0 && <span className="count"> {liked.length}</span>}</NavLink>
          <NavLink href="/upload">Upload a poster</NavLink>
          <NavLink href="/admin">Admin</NavLink>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Switch>
          <Route path="/" component={BrowsePage} />
          <Route path="/movie/:id">{(params) => <MoviePage key={params.id} id={params.id} />}</Route>
          <Route path="/for-you" component={ForYouPage} />
          <Route path="/upload" component={UploadPage} />
          <Route path="/admin" component={AdminPage} />
          <Route>
            <h1>Page not found</h1>
            <p>
              <Link href="/">Back to the posters</Link>
            </p>
          </Route>
        </Switch>
      </main>
    </>
  );
}
