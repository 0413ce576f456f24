import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'urql';
import { AdminKeyProvider } from './admin/admin-key';
import { createApiClient } from './api/client';
import { App } from './app';
import { TasteProvider } from './taste/taste';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Provider value={createApiClient()}>
      <AdminKeyProvider>
        <TasteProvider>
          <App />
        </TasteProvider>
      </AdminKeyProvider>
    </Provider>
  </StrictMode>,
);
